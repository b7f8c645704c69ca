# target: multidomain
# file: vits/src/policy.c
# models: lazy-global INVALL answered with K INVs clearing every domain's dirty bits (a bit another domain still needs)
/for_each_assigned(v, icid, inv_if_needed, NULL);/a\
		if (v->cfg.policy == VITS_POLICY_LAZY_GLOBAL)\
			for (uint32_t zp = 0; zp < v->host->cfg.nr_pcpus; zp++)\
				vits_host_dirty_clear_pcpu(v->host, zp, NULL);
