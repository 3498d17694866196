# hotspot_spdep.R — the R reference for gridwatch's Gi*: spdep::localG with self-included binary
# weights on the same grids, values and neighbours as gridwatch, plus spdep's own poly2nb on the
# grid polygons to compare the contiguity itself.  Used by tests/unit/test_hotspot.c and the
# benchmark (bench/bench_hotspot.sh).
#
# usage: Rscript hotspot_spdep.R VALUES.csv NEIGHBOURS.csv OUT.csv [GRIDS.gpkg EPSG SNAP QUEEN]
#   VALUES.csv      gridwatch hotspots CSV: id,count,value,z,p,class (value = what Gi* ran on;
#                   empty value = left out, as gridwatch does for "no_value")
#   NEIGHBOURS.csv  id,neighbour pairs (gridwatch hotspots --neighbours FILE)
#   OUT.csv         written: id,z_spdep,z_gridwatch,nb_gridwatch,nb_poly2nb
#   GRIDS.gpkg      optional: the grids (gridwatch export DB grids FILE), EPSG their metric CRS,
#                   SNAP the tolerance in metres, QUEEN 1 for queen, 0 for rook
# Prints one line per figure (key=value) and exits 1 when |z_spdep - z_gridwatch| > 1e-9.
suppressPackageStartupMessages(library(spdep))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) stop("usage: hotspot_spdep.R VALUES.csv NEIGHBOURS.csv OUT.csv [GRIDS EPSG SNAP QUEEN]")

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
attr(nb, "sym") <- is.symmetric.nb(nb, verbose = FALSE, force = TRUE)

t0 <- proc.time()[["elapsed"]]
lw <- nb2listw(include.self(nb), style = "B", zero.policy = TRUE)
g <- as.numeric(localG(x, lw, zero.policy = TRUE))
t_localg <- proc.time()[["elapsed"]] - t0

zg <- v$z[keep]
card0 <- card(nb) == 0 # gridwatch reports these as null; spdep gives (x - mean)/S
diff <- abs(g - zg)
diff[card0] <- NA
maxdiff <- max(diff, na.rm = TRUE)
cat(sprintf("units=%d links=%d isolated=%d\n", n, sum(card(nb)), sum(card0)))
cat(sprintf("localG_seconds=%.4f\n", t_localg))
cat(sprintf("max_abs_diff_z=%.3e\n", maxdiff))

nb_poly <- rep(NA_integer_, n)
if (length(args) >= 7) {
  suppressPackageStartupMessages(library(sf))
  grids <- st_read(args[4], quiet = TRUE)
  grids <- st_transform(grids, as.integer(args[5]))
  grids <- grids[match(ids, grids$id), ]
  t0 <- proc.time()[["elapsed"]]
  pnb <- poly2nb(grids, queen = args[7] == "1", snap = as.numeric(args[6]))
  t_poly <- proc.time()[["elapsed"]] - t0
  nb_poly <- card(pnb)
  same <- mapply(function(a, b) identical(as.integer(a[a > 0]), as.integer(b[b > 0])), nb, pnb)
  cat(sprintf("poly2nb_seconds=%.4f\n", t_poly))
  cat(sprintf("poly2nb_links=%d poly2nb_units_differing=%d\n", sum(card(pnb)), sum(!same)))
  t0 <- proc.time()[["elapsed"]]
  g2 <- as.numeric(localG(x, nb2listw(include.self(pnb), style = "B", zero.policy = TRUE), zero.policy = TRUE))
  cat(sprintf("poly2nb_localG_seconds=%.4f\n", proc.time()[["elapsed"]] - t0))
  d2 <- abs(g2 - zg)
  d2[card(pnb) == 0 | card0] <- NA
  cat(sprintf("poly2nb_max_abs_diff_z=%.3e\n", max(d2, na.rm = TRUE)))
}
write.csv(data.frame(id = ids, z_spdep = sprintf("%.17g", g), z_gridwatch = zg, nb_gridwatch = card(nb),
                     nb_poly2nb = nb_poly), args[3], row.names = FALSE, quote = FALSE)
if (!(maxdiff <= 1e-9)) quit(status = 1)
