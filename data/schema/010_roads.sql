-- 010_roads.sql — the road layer (issue 20, docs/roads.md): street centre lines the routing
-- graph (geo/road) is built from.  geom is ISO WKB LineString in EPSG:4326 (a plain BLOB like
-- coverage.blind_spots, not a SpatiaLite geometry column: the graph reads every row, nothing
-- queries it by box).  oneway: 0 both ways, 1 along the line's direction, -1 against it.
-- speed_kmh NULL = the default speed of the class (docs/roads.md).  Changes are logged in the
-- change log under layer 'roads'.
CREATE TABLE roads (
    fid       INTEGER PRIMARY KEY,
    id        TEXT NOT NULL UNIQUE,
    name      TEXT,
    class     TEXT NOT NULL,
    oneway    INTEGER NOT NULL DEFAULT 0 CHECK (oneway IN (-1, 0, 1)),
    speed_kmh REAL CHECK (speed_kmh IS NULL OR (speed_kmh > 0 AND speed_kmh <= 300)),
    geom      BLOB NOT NULL
);
