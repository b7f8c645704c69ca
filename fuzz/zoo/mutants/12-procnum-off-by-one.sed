# target: cmdq
# file: vits/src/commands.c
# models: target == number of vCPUs accepted
s/return rd < v->cfg.nr_vcpus;/return rd <= v->cfg.nr_vcpus;/
