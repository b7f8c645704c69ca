# target: policy
# file: vits/src/phys.c
# models: INV reordered behind the DISCARD that unmapped its event (eager)
/^void vits_phys_discard/,/^}/ s/^\t\tvits_phys_emit(v, \&c);/\t\tvits_phys_emit(v, \&c);\n\t\tif (v->cfg.policy == VITS_POLICY_EAGER) { struct its_cmd inv = its_mk_devev(ITS_OP_INV, d->pdevid, ev); vits_phys_emit(v, \&inv); }/
