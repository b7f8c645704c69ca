# target: cmdq
# file: vits/src/regs.c
# models: CWRITER == queue size accepted
s/if (target >= v->qsize \&\& /if (target > v->qsize \&\& /
