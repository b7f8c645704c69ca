# target: policy
# file: vits/src/policy.c
# models: eager trapped write updates the host byte but sends no INV
/^\tif (v->cfg.policy == VITS_POLICY_EAGER)$/{n;s/send_inv(v, d, ev);/(void)0;/}
