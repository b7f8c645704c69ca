# target: cmdq
# file: vits/src/regs.c
# models: CBASER write not resetting CREADR
/^static void wr_cbaser/,/^}/ s/v->creadr = 0;/(void)0;/
