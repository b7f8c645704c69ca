# target: policy
# file: vits/src/policy.c
# models: lazy dirty bit cleared before (instead of) queueing its INV
0,/^\t\tsend_inv(v, d, ev);/ s//\t\t(void)0;/
