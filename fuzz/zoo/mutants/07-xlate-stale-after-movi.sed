# target: cmdq
# file: vits/src/commands.c
# models: translation cache not flushed on MOVI
/v->lpi_pvcpu\[i\] = (uint16_t)to;/{n;s/vits_xlate_drop/(void)/}
