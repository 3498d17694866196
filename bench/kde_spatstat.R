# kde_spatstat.R — the R reference for gridwatch's kernel density (geo/kde.c): spatstat's
# density.ppp with the quartic kernel, edge=FALSE, on the same points, extent, cell size and
# radius, timed, and compared cell by cell with gridwatch's raster.  Used by bench/bench_kde.sh.
#
# usage: Rscript kde_spatstat.R POINTS.csv X0 Y1 NX NY CELL RADIUS [OURS.bin]
#   POINTS.csv   x,y in the metric CRS (header line, one incident a line)
#   X0 Y1        top-left corner of the raster (metric); NX NY cells of CELL metres
#   RADIUS       the quartic kernel's support radius r in metres (ArcGIS's "search radius")
#   OURS.bin     optional: gridwatch's raster as raw Float32, top row first (gdal_translate -of ENVI)
# Prints key=value lines: times, integrals, and the differences relative to gridwatch's peak.
#
# Bandwidth: density.ppp's sigma is the standard deviation of ONE coordinate of its 2-D kernel
# (evaluate2Dkernel rescales x, y by sd/sigma with sd from .Spatstat.2D.KernelTable).  For the 2-D
# quartic (3/pi)(1-|u|^2)^2 on the unit disc that sd is 1/sqrt(8) (E|u|^2 = 1/4, so 1/8 per
# coordinate; spatstat's table says 0.3535534), hence sigma = r/sqrt(8).  (1/sqrt(7) is the 1-D
# biweight's factor in spatstat's kernel.factor, which density.ppp does not use.)  The script
# checks this against spatstat itself before timing.
suppressPackageStartupMessages(library(spatstat.explore))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 7) stop("usage: kde_spatstat.R POINTS.csv X0 Y1 NX NY CELL RADIUS [OURS.bin]")
x0 <- as.numeric(args[2]); y1 <- as.numeric(args[3])
nx <- as.integer(args[4]); ny <- as.integer(args[5])
cell <- as.numeric(args[6]); r <- as.numeric(args[7])
sigma <- r / sqrt(8)

# the kernel as density.ppp will evaluate it: peak 3/(pi r^2), zero from r on
k <- spatstat.explore:::evaluate2Dkernel("quartic", c(0, 0.5 * r, 0.999 * r, r), c(0, 0, 0, 0), sigma = sigma)
want <- 3 / (pi * r^2) * c(1, 0.75^2, (1 - 0.999^2)^2, 0)
cat(sprintf("kernel_check_max_rel_err=%.2e\n", max(abs(k - want)) / want[1]))
if (max(abs(k - want)) > 1e-9 * want[1]) stop("sigma = r/sqrt(8) does not give the quartic of radius r in this spatstat")

t0 <- proc.time()[["elapsed"]]
p <- scan(args[1], what = list(x = 0, y = 0), sep = ",", skip = 1, quiet = TRUE)
W <- owin(c(x0, x0 + nx * cell), c(y1 - ny * cell, y1))
X <- ppp(p$x, p$y, window = W) # points outside the window are dropped (and counted)
t_read <- proc.time()[["elapsed"]] - t0
cat(sprintf("points=%d outside_window=%d read_seconds=%.3f\n", npoints(X),
            length(p$x) - npoints(X), t_read))

t0 <- proc.time()
D <- density.ppp(X, sigma = sigma, kernel = "quartic", edge = FALSE, dimyx = c(ny, nx))
t1 <- proc.time() - t0
cat(sprintf("density_ppp_seconds=%.3f cpu_seconds=%.3f\n", t1[["elapsed"]], t1[["user.self"]] + t1[["sys.self"]]))
if (D$dim[1] != ny || D$dim[2] != nx || abs(D$xcol[1] - (x0 + cell / 2)) > 1e-6 * cell ||
    abs(D$yrow[ny] - (y1 - cell / 2)) > 1e-6 * cell)
  stop("spatstat's pixel grid is not gridwatch's: ", D$dim[1], "x", D$dim[2], " first centre ", D$xcol[1], ",", D$yrow[1])

v <- D$v[ny:1, ] * 1e6 # spatstat: row 1 is the bottom, per m^2; gridwatch: top row first, per km^2
cat(sprintf("spatstat_integral=%.1f\n", sum(v) * cell^2 / 1e6))
if (length(args) >= 8) {
  ours <- matrix(readBin(args[8], "numeric", n = nx * ny, size = 4, endian = "little"), nrow = ny, ncol = nx, byrow = TRUE)
  peak <- max(ours)
  d <- abs(v - ours)
  cat(sprintf("gridwatch_integral=%.1f\n", sum(ours) * cell^2 / 1e6))
  cat(sprintf("peak_gridwatch=%.3f peak_spatstat=%.3f per_km2\n", peak, max(v)))
  cat(sprintf("max_abs_diff_rel=%.2e mean_abs_diff_rel=%.2e\n", max(d) / peak, mean(d) / peak))
  # spatstat divides its discretised kernel by its sum (Kern/sum(Kern) in second.moment.engine);
  # gridwatch keeps ArcGIS's analytic values at the cell centres, whose sum times the cell area
  # is 1 only up to the discretisation.  With ours rescaled to the same integral, what is left:
  s <- sum(v) / sum(ours)
  cat(sprintf("max_abs_diff_rel_after_normalising=%.2e (scale %.6f)\n", max(abs(v - ours * s)) / peak, s))
  at <- which.max(d)
  cat(sprintf("worst_cell_row=%d col=%d gridwatch=%.4f spatstat=%.4f\n", (at - 1) %% ny, (at - 1) %/% ny,
              ours[at], v[at]))
}
