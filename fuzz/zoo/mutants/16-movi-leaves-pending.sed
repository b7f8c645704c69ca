# target: cmdq
# file: vits/src/commands.c
# models: pending state not moved by MOVI
s/^\t\tv->lpi_pvcpu\[i\] = (uint16_t)to;/\t\t(void)to;/
