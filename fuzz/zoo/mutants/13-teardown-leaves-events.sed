# target: policy
# file: vits/src/phys.c
# models: teardown leaving physical events mapped (no DISCARD before MAPD V=0)
s/^\t\tvits_phys_discard(v, d, e);/\t\t(void)0;/
