# Regenerates crates/node/src/console/assets/europe.txt from Natural Earth 1:110m
# countries (public domain), as Debian packages them:
#   apt-get install r-base-core r-cran-sp r-cran-rnaturalearthdata
#   Rscript scripts/basemap/extract.R && cp /tmp/nemap/europe.txt crates/node/src/console/assets/
# (Debian 12 ships rnaturalearthdata 0.1.0-2; the file records the version.)
suppressMessages(library(sp))
data("countries110", package = "rnaturalearthdata")
c110 <- countries110
names_col <- if ("name" %in% names(c110@data)) "name" else "NAME"
out <- file({ dir.create("/tmp/nemap", showWarnings = FALSE); "/tmp/nemap/europe.txt" }, "w")
cat("# Country outlines for the exercise map: Natural Earth 1:110m Admin 0 - Countries\n", file = out)
cat("# (public domain, naturalearthdata.com), as shipped in Debian's r-cran-rnaturalearthdata\n", file = out)
cat("# 0.1.0-2 (CC0). Extracted by scripts/basemap/extract.R: every polygon of a country\n", file = out)
cat("# that reaches the map's extent (longitude -25..60, latitude 28..75), longitude latitude\n", file = out)
cat("# in degrees rounded to 0.01. Blocks are separated by a blank line: \"land NAME\" starts a\n", file = out)
cat("# ring; \"label NAME\" is followed by the point where its name goes.\n", file = out)
for (i in seq_along(c110@polygons)) {
  p <- c110@polygons[[i]]
  name <- as.character(c110@data[[names_col]][i])
  bb <- bbox(SpatialPolygons(list(p)))
  if (bb[1, 2] < -25 || bb[1, 1] > 60 || bb[2, 2] < 28 || bb[2, 1] > 75) next
  for (ring in p@Polygons) {
    if (ring@hole) next
    xy <- ring@coords
    cat("\nland ", name, "\n", sep = "", file = out)
    cat(sprintf("%.2f %.2f", xy[, 1], xy[, 2]), sep = "\n", file = out)
  }
  lp <- p@labpt
  # A country whose label point lies off the map (Russia's is in Siberia)
  # is named at the mean of its outline points on the map.
  if (lp[1] < -11 || lp[1] > 50 || lp[2] < 34 || lp[2] > 71.5) {
    pts <- do.call(rbind, lapply(p@Polygons, function(r) r@coords))
    on_map <- pts[pts[, 1] > -11 & pts[, 1] < 50 & pts[, 2] > 34 & pts[, 2] < 71.5, , drop = FALSE]
    if (nrow(on_map) > 0) lp <- colMeans(on_map)
  }
  cat("\nlabel ", name, "\n", sprintf("%.2f %.2f", lp[1], lp[2]), "\n", sep = "", file = out)
}
close(out)
