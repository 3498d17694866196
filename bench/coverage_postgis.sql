-- coverage_postgis.sql — the PostGIS answer to `gridwatch coverage`: the same camera view
-- sectors (vertices by the same formula as gw_coverage_sector in geo/coverage.c, at the
-- azimuth and range corrected for the CRS as below), built in the dataset's metric CRS,
-- unioned per grid; ratio = area(grid ∩ ⋃ views) / area(grid).
-- Inputs (loaded by bench/bench_coverage.sh): tables grids(id, geom 4326) of the published
-- version and cameras(id, azimuth, fov, range, status, geom 4326); psql variable :srid.
-- Output: table pg_coverage(id, ratio, covered_m2, grid_m2).
\set ON_ERROR_STOP on
DROP TABLE IF EXISTS cam_m, sectors, grid_m, pg_coverage;

CREATE TABLE grid_m AS SELECT id, ST_Transform(geom, :srid) AS geom FROM grids;
CREATE INDEX ON grid_m USING gist (geom);

-- Cameras with a view: not offline, range > 0, fov > 0 (NULL fov = dome, NULL azimuth = 0).
-- The azimuth is a true bearing and the range a ground distance: drawn in the metric CRS, the
-- azimuth is turned by the grid bearing of true north at the camera and the range scaled by
-- the CRS's scale there.  Both come from the point 1 m due north along the geodesic
-- (ST_Project on the spheroid), projected: its grid bearing and its projected length.  The
-- engine takes the same two figures from PROJ's proj_factors (gw_layer_data_view_factors).
CREATE TABLE cam_m AS
SELECT id, ST_X(g) AS x, ST_Y(g) AS y,
       a + CASE WHEN degrees(ST_Azimuth(g, n)) > 180 THEN degrees(ST_Azimuth(g, n)) - 360
                ELSE degrees(ST_Azimuth(g, n)) END AS a,
       f, r * ST_Distance(g, n) AS r
FROM (SELECT id, ST_Transform(geom, :srid) AS g,
             ST_Transform(ST_Project(geom::geography, 1, 0)::geometry, :srid) AS n,
             coalesce(azimuth, 0)::float8 AS a,
             least(coalesce(fov, 360), 360)::float8 AS f, range::float8 AS r
      FROM cameras
      WHERE range > 0 AND coalesce(fov, 360) > 0 AND lower(coalesce(status, '')) <> 'offline') c;

-- Sector: apex, n+1 arc points at bearings a - f/2 + f*i/n (n = ceil(f/3)), apex; a disc
-- (f = 360): 120 arc points and the first again (3° steps, as geo/coverage.c).
CREATE TABLE sectors AS
SELECT c.id,
       ST_SetSRID(ST_MakePolygon(ST_MakeLine(
         CASE WHEN c.f >= 360 THEN
           (SELECT array_agg(ST_MakePoint(c.x + c.r * sin(radians(c.a - c.f / 2 + c.f * (i % 120) / 120)),
                                          c.y + c.r * cos(radians(c.a - c.f / 2 + c.f * (i % 120) / 120))) ORDER BY i)
            FROM generate_series(0, 120) AS i)
         ELSE
           ARRAY[ST_MakePoint(c.x, c.y)] ||
           (SELECT array_agg(ST_MakePoint(c.x + c.r * sin(radians(c.a - c.f / 2 + c.f * i / ceil(c.f / 3))),
                                          c.y + c.r * cos(radians(c.a - c.f / 2 + c.f * i / ceil(c.f / 3)))) ORDER BY i)
            FROM generate_series(0, ceil(c.f / 3)::int) AS i) ||
           ARRAY[ST_MakePoint(c.x, c.y)]
         END)), :srid) AS geom
FROM cam_m c;
CREATE INDEX ON sectors USING gist (geom);

CREATE TABLE pg_coverage AS
SELECT g.id, coalesce(ST_Area(ST_Intersection(g.geom, u.geom)), 0) AS covered_m2, ST_Area(g.geom) AS grid_m2,
       coalesce(ST_Area(ST_Intersection(g.geom, u.geom)), 0) / ST_Area(g.geom) AS ratio
FROM grid_m g
LEFT JOIN LATERAL (SELECT ST_Union(s.geom) AS geom FROM sectors s WHERE ST_Intersects(s.geom, g.geom)) u ON true;
