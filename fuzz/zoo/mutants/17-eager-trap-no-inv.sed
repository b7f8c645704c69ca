# target: policy
# file: vits/src/policy.c
# models: eager trapped write updates the host byte but sends no INV
s/^\t\t\tsend_inv(v, d, r->eventid);/\t\t\t(void)0;/
