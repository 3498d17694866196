# hotspot_lisa.R — the R reference for gridwatch's Local Moran's I: spdep::localmoran (analytic
# I_i, row-standardised weights, mlvar = TRUE) and spdep::localmoran_perm (conditional
# permutation, folded pseudo p "Pr(folded) Sim") on the same values and neighbours.
# Used by tests/unit/test_lisa.c.
#
# usage: Rscript hotspot_lisa.R VALUES.csv NEIGHBOURS.csv OUT.csv [NSIM]
#   VALUES.csv      id,value,I,p (gridwatch's; empty value = left out)
#   NEIGHBOURS.csv  id,neighbour pairs
#   OUT.csv         written: id,I_spdep,p_spdep
# Prints key=value figures; exits 1 when |I_spdep - I_gridwatch| > 1e-9.
suppressPackageStartupMessages(library(spdep))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) stop("usage: hotspot_lisa.R VALUES.csv NEIGHBOURS.csv OUT.csv [NSIM]")
nsim <- if (length(args) >= 4) as.integer(args[4]) else 999L
v <- read.csv(args[1], colClasses = c(id = "character"), stringsAsFactors = FALSE)
pairs <- read.csv(args[2], colClasses = "character", stringsAsFactors = FALSE)
keep <- !is.na(v$value)
ids <- v$id[keep]
x <- v$value[keep]
n <- length(ids)
idx <- match(pairs$id, ids)
jdx <- match(pairs$neighbour, ids)
ok <- !is.na(idx) & !is.na(jdx)
nbl <- split(jdx[ok], factor(idx[ok], levels = seq_len(n)))
nb <- lapply(seq_len(n), function(i) {
  s <- sort(unique(as.integer(nbl[[i]])))
  if (length(s) == 0) 0L else s
})
class(nb) <- "nb"
attr(nb, "region.id") <- ids
lw <- nb2listw(nb, style = "W", zero.policy = TRUE)
t0 <- proc.time()[["elapsed"]]
lm <- localmoran(x, lw, zero.policy = TRUE)
t1 <- proc.time()[["elapsed"]]
lp <- localmoran_perm(x, lw, nsim = nsim, zero.policy = TRUE, iseed = 1L)
t2 <- proc.time()[["elapsed"]]
I <- as.numeric(lm[, "Ii"])
p <- as.numeric(lp[, "Pr(folded) Sim"])
write.csv(data.frame(id = ids, I_spdep = sprintf("%.17g", I), p_spdep = sprintf("%.17g", p)), args[3],
          row.names = FALSE, quote = FALSE)
d <- abs(I - v$I[keep])
cat(sprintf("units=%d\nlocalmoran_seconds=%.4f\nlocalmoran_perm_seconds=%.4f\nmax_abs_diff_I=%.3e\n",
            n, t1 - t0, t2 - t1, max(d, na.rm = TRUE)))
pd <- abs(p - v$p[keep])
cat(sprintf("mean_abs_diff_p=%.4f\nmax_abs_diff_p=%.4f\n", mean(pd, na.rm = TRUE), max(pd, na.rm = TRUE)))
if (max(d, na.rm = TRUE) > 1e-9) quit(status = 1)
