# target: wrap
# file: vits/src/cmdq.c
# models: queue wrap check off by one (CREADR reaches the queue size)
s/if (v->creadr >= v->qsize)/if (v->creadr > v->qsize)/
