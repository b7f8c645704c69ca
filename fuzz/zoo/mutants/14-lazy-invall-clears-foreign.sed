# target: policy
# file: vits/src/host.c
# models: lazy(-global) INVALL clearing dirty bits it did not invalidate (other pCPUs)
s/m->slot == 0 || m->pcpu != pcpu/m->slot == 0/
