# lattice_localg.R IN.csv OUT.csv D — Getis-Ord Gi* (spdep::localG with self-included binary
# weights) of lattice cells within distance D of each other: the reference for the lattice Gi*
# of docs/hotspots.md (tests/unit/test_clusters.c, group --spdep).  IN has x,y,count (metric);
# OUT gets one z per line, in IN's order.
suppressPackageStartupMessages(library(spdep))
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1])
nb <- dnearneigh(cbind(d$x, d$y), 0, as.numeric(a[3]))
lw <- nb2listw(include.self(nb), style = "B", zero.policy = TRUE)
z <- as.numeric(localG(d$count, lw, zero.policy = TRUE))
write.table(format(z, digits = 17), a[2], row.names = FALSE, col.names = FALSE, quote = FALSE)
