# target: cmdq
# file: vits/src/commands.c
# models: MAPTI onto a mapped event accepted
s/^\tif (ite != NULL \&\& ite->intid)$/\tif (0)/
