/* openapi_ops.c — the table behind /openapi.json: for every route of the route table, the path
 * as served, its operationId, parameters with examples and what it answers.  The examples are
 * real: tests/peers/openapi_walk.mjs calls every documented operation with them against a
 * generated city (gen-city --scale 0.01 --seed 7) and expects the documented status and type.
 * A route added without an entry here is listed as undocumented and fails tests/http/test_openapi.c. */
#include "openapi_ops.h"

#include <string.h>

#define JSON "application/json"
#define GEOJSON "application/geo+json"
#define MVT "application/vnd.mapbox-vector-tile"

/* the parameters several routes share */
#define P_LON "lon query! number 115.47 longitude (CRS84)"
#define P_LAT "lat query! number 35.24 latitude (CRS84)"
#define P_FROM "from query string 2024-01-01 incidents occurred at or after (ISO 8601; tz applies)"
#define P_TO "to query string 2030-01-01 incidents occurred before (ISO 8601)"
#define P_CATEGORY "category query string - incidents of this category only"
#define P_SEVMIN "severity_min query integer:1:5 - incidents of at least this severity"
#define P_SEVMAX "severity_max query integer:1:5 - incidents of at most this severity"
#define P_DRAFT "id path integer 1 the draft's id"
#define P_Z "z path integer:0:22 14 zoom"
#define P_X "x path integer 13447 tile column"
#define P_Y "y path integer 6499 tile row (the path ends in the extension)"

/* OP: an operation without a request body; WRITE: one with a body (its type and example). */
#define OP(route, path, id, tag, status, type, schema, summary, ...)                               \
    {                                                                                              \
        route, path, id, tag, summary, status, type, schema, NULL, NULL, { __VA_ARGS__ }           \
    }
#define WRITE(route, id, tag, status, type, schema, body, example, summary, ...)                   \
    {                                                                                              \
        route, NULL, id, tag, summary, status, type, schema, body, example, { __VA_ARGS__ }        \
    }

static const oa_op ops[] = {
    /* ---- OGC API - Features ---------------------------------------------------------- */
    OP("GET /", NULL, "getLandingPage", "Features", 200, JSON, "LandingPage", "Landing page", "@f"),
    OP("GET /conformance", NULL, "getConformance", "Features", 200, JSON, "Conformance",
       "Conformance classes", "@f"),
    OP("GET /openapi.json", NULL, "getOpenAPI", "Operations", 200,
       "application/vnd.oai.openapi+json;version=3.0", NULL, "This document", NULL),
    OP("GET /collections", NULL, "getCollections", "Features", 200, JSON, "Collections",
       "The collections", "@f"),
    OP("GET /collections/{layer}", NULL, "describe%sCollection", "Features", 200, JSON,
       "Collection", "Collection metadata", "@f"),
    /* the items' own parameters (bbox, datetime, property filters …) come from the layer */
    OP("GET /collections/{layer}/items", NULL, "get%sFeatures", "Features", 200, GEOJSON,
       "FeatureCollection", "Features (GeoJSON, paged)", "@items"),
    OP("GET /collections/{layer}/queryables", NULL, "get%sQueryables", "Features", 200,
       "application/schema+json", NULL,
       "The queryables: what filter, sortby and properties may name (JSON Schema)", NULL),
    OP("GET /collections/{layer}/items/{id}", NULL, "get%sFeature", "Features", 200, GEOJSON,
       "Feature", "One feature", "@featureId", "@crs", "@f"),
    WRITE("POST /collections/{layer}/items", "create%sFeature", "Features", 201, GEOJSON, "Feature",
          GEOJSON, NULL, "Add a feature (OGC API - Features Part 4)", "@crs"),
    WRITE("PUT /collections/{layer}/items/{id}", "replace%sFeature", "Features", 200, GEOJSON,
          "Feature", GEOJSON, NULL, "Replace a feature", "@featureId", "@crs"),
    WRITE("PATCH /collections/{layer}/items/{id}", "update%sFeature", "Features", 200, GEOJSON,
          "Feature", "application/merge-patch+json", NULL,
          "Change a feature's properties or geometry (JSON merge patch)", "@featureId", "@crs"),
    OP("DELETE /collections/{layer}/items/{id}", NULL, "delete%sFeature", "Features", 204, NULL,
       NULL, "Delete a feature", "@featureId"),
    /* ---- tiles, heat map, style ------------------------------------------------------ */
    OP("GET /tiles/{layer}/{z}/{x}/{y}", "/tiles/{layer}/{z}/{x}/{y}.mvt", "getVectorTile", "Tiles",
       200, MVT, NULL, "A vector tile (Mapbox Vector Tile 2.1)",
       "layer path tile_layer grids the tile layer (city: all of them in one tile)", P_Z, P_X, P_Y,
       "datetime query string - incidents and teams in this RFC 3339 instant or interval only",
       "category query string - incidents (and incident clusters) of this category only",
       "status query string - cameras or teams of this status only"),
    OP("GET /tiles/{file}", "/tiles/{layer}.json", "getTileJSON", "Tiles", 200, JSON, "TileJSON",
       "TileJSON 3.0.0 of a tile layer", "layer path tile_layer city the tile layer",
       "datetime query string - the tiles' datetime filter (carried into their URL)"),
    OP("GET /styles/{file}", "/styles/city.json", "getStyle", "Tiles", 200, JSON, NULL,
       "The MapLibre style of the city tiles", NULL),
    OP("GET /tiles/heatmap/{z}/{x}/{y}", "/tiles/heatmap/{z}/{x}/{y}.png", "getHeatmapTile",
       "Tiles", 200, "image/png", NULL, "A heat map tile: incident density (PNG, 256 px)", P_Z, P_X,
       P_Y, "@datetime", P_CATEGORY, P_SEVMIN, P_SEVMAX,
       "min query number - the density (incidents per km²) at the bottom of the colour ramp",
       "max query number - the density at the top of the colour ramp"),
    OP("GET /tiles/heatmap/legend.json", NULL, "getHeatmapLegend", "Tiles", 200, JSON,
       "{unit$,stops[]}", "The heat map's colour ramp and its densities", "@datetime", P_CATEGORY,
       P_SEVMIN, P_SEVMAX, "min query number - the density at the bottom of the ramp",
       "max query number - the density at the top of the ramp"),
    /* ---- analysis -------------------------------------------------------------------- */
    OP("GET /analysis/hotspots", NULL, "getHotspots", "Analysis", 200, JSON,
       "{method$,grids#,results[]}",
       "Hot spots per grid: Gi* (default), Local Moran's I or emerging hot spots",
       "method query enum:gistar|lisa|emerging gistar the statistic", "@datetime", P_FROM, P_TO,
       P_CATEGORY, P_SEVMIN, P_SEVMAX,
       "weights query string queen spatial weights: queen, rook or knn:K or distance:METRES",
       "value query string count what is tested: count or rate",
       "fdr query boolean true control the false discovery rate",
       "format query enum:json|csv json JSON or CSV",
       "permutations query integer:1:99999 - permutations (lisa)",
       "seed query integer - random seed (lisa)", "step query enum:week|day - time step (emerging)",
       "time_neighbours query integer:0:52 - previous steps in a bin's neighbourhood (emerging)"),
    OP("GET /analysis/hotspots/evaluate", NULL, "evaluateHotspots", "Analysis", 200, JSON, NULL,
       "How well the hot spots of a training period predict a test period (PAI, hit rate)",
       "train query string 2024-01-01/2025-06-30 the training period FROM/TO",
       "test query string 2025-07-01/2026-12-31 the test period FROM/TO",
       "top query number 0.05 the share of KDE cells flagged", P_CATEGORY, P_SEVMIN, P_SEVMAX,
       "cell query number - KDE cell size in metres",
       "bandwidth query number - KDE bandwidth in metres"),
    OP("GET /analysis/hotspots/clusters", NULL, "getHotspotClusters", "Analysis", 200, GEOJSON,
       "FeatureCollection", "Space-time scan clusters of incidents (GeoJSON circles)", "@datetime",
       P_FROM, P_TO, P_CATEGORY, P_SEVMIN, P_SEVMAX,
       "cell query number - grid cell of the scan in metres",
       "max_radius query number - largest circle in metres",
       "bandwidth query number - smoothing bandwidth in metres",
       "min_rr query number - least relative risk of a cluster reported",
       "alpha query number - significance level", "replications query integer - Monte Carlo runs",
       "steps query integer - radii tried",
       "recent_days query string - days counted as recent, or off",
       "seed query integer - random seed", "format query enum:geojson|json - the answer's format"),
    OP("GET /analysis/kde", NULL, "getKDE", "Analysis", 200, "image/tiff", NULL,
       "Kernel density of incidents: a GeoTIFF, or contours as GeoJSON",
       "format query enum:tiff|contours tiff GeoTIFF raster or GeoJSON contours", "@bbox",
       "@datetime", P_FROM, P_TO, P_CATEGORY, P_SEVMIN, P_SEVMAX,
       "cell query number 200 cell size in metres", "bandwidth query number - bandwidth in metres",
       "levels query string - contour levels, comma-separated densities per km²"),
    OP("GET /analysis/coverage", NULL, "getCoverage", "Analysis", 200, JSON,
       "{seq#,count#,grids[]}", "Camera coverage of every grid", "@datetime"),
    OP("GET /analysis/coverage/{grid}", NULL, "getGridCoverage", "Analysis", 200, GEOJSON, NULL,
       "One grid's coverage with its blind spots (GeoJSON)",
       "grid path string 371702-001-0001 the grid's id"),
    OP("GET /analysis/isochrones", NULL, "getIsochrones", "Analysis", 200, GEOJSON,
       "FeatureCollection",
       "Areas reached by road within N minutes from a police room, a team or a point "
       "(docs/reach.md; 409 without roads)",
       "room query string - from this police room", "team query string - from this team",
       "lon query number 115.47 from this point: longitude (CRS84)",
       "lat query number 35.24 from this point: latitude (CRS84)",
       "minutes query string 3,5,10 the bands in minutes, comma-separated",
       "width query number - metres either side of a reached road (default 100)"),
    OP("GET /tiles/isochrones/{z}/{x}/{y}", "/tiles/isochrones/{z}/{x}/{y}.mvt", "getIsochroneTile",
       "Tiles", 200, MVT, NULL,
       "The grids' 3/5/10-minute road reach from their police rooms (Mapbox Vector Tile)", P_Z, P_X,
       P_Y),
    OP("GET /tiles/roads/{z}/{x}/{y}", "/tiles/roads/{z}/{x}/{y}.mvt", "getRoadTile", "Tiles", 200,
       MVT, NULL,
       "The road layer (name, class, oneway) as a vector tile layer 'roads': major classes "
       "from zoom 8, every road from zoom 12",
       P_Z, P_X, P_Y),
    OP("GET /analysis/response", NULL, "getResponseFigures", "Analysis", 200, JSON,
       "{now$,total{},jurisdictions[],seq#}",
       "Response times and escalations per grid and jurisdiction", P_FROM, P_TO,
       "tz query string Asia/Shanghai time zone of from/to without an offset",
       "grids query boolean false include the per-grid rows"),
    OP("GET /jurisdictions", NULL, "getJurisdictions", "Analysis", 200, JSON,
       "{jurisdictions[],unassigned_grids#,seq#}",
       "The jurisdiction hierarchy of the published grids",
       "level query integer:1:4 2 1 prefecture, 2 county, 3 township, 4 village",
       "parent query string - only the jurisdictions under this path"),
    /* ---- dispatch -------------------------------------------------------------------- */
    OP("GET /dispatch/locate", NULL, "locatePoint", "Dispatch", 200, JSON,
       "{point{},grid,police_rooms_nearest[],cameras[],cameras_total#,seq#}",
       "The grid, police rooms and cameras of a point", P_LON, P_LAT, "@crs"),
    OP("GET /dispatch/nearest", NULL, "getNearestTeams", "Dispatch", 200, JSON,
       "{point{},teams[],stale_skipped#}", "The nearest patrol teams of a point", P_LON, P_LAT,
       "@crs", "k query integer:1:256 5 how many teams",
       "status query string available team status(es), comma-separated, or any",
       "max_m query number 5000 teams within this many metres only",
       "include_stale query integer:0:1 0 1: also teams whose position is stale",
       "stale_s query integer 600 a position older than this many seconds is stale",
       "by query enum:distance|eta distance rank by straight-line distance or by road travel "
       "time (eta_s, route_m; 409 without roads)",
       "route query boolean false with by=eta: each team's route as a GeoJSON LineString",
       "snap_max_m query integer:1:100000 500 with by=eta: the point's farthest road (400 past "
       "it)"),
    OP("GET /dispatch/cameras", NULL, "getCamerasSeeing", "Dispatch", 200, JSON,
       "FeatureCollection", "The cameras whose view covers a point", P_LON, P_LAT,
       "limit query integer:1:1000 20 at most this many cameras", "@datetime"),
    WRITE("POST /dispatch/positions", "reportPositions", "Dispatch", 200, JSON, NULL, JSON,
          "{\"positions\":[{\"id\":\"T00001\",\"lon\":115.47,\"lat\":35.24}]}",
          "Report team positions (a batch)", NULL),
    WRITE("POST /dispatch/assign", "assignTeam", "Dispatch", 200, JSON, NULL, JSON,
          "{\"team\":\"T00001\",\"incident\":\"I0000001\"}", "Assign a team to an incident", NULL),
    WRITE("POST /dispatch/release", "releaseTeam", "Dispatch", 200, JSON, NULL, JSON,
          "{\"team\":\"T00001\"}", "Release a team", NULL),
    /* ---- incident flow --------------------------------------------------------------- */
    OP("GET /incidents/overdue", NULL, "getOverdueIncidents", "Incidents", 200, JSON,
       "{now$,count#,incidents[]}", "Incidents past their deadline",
       "jurisdiction query string - only incidents of this jurisdiction path",
       "limit query integer:1:10000 50 at most this many"),
    OP("GET /incidents/{id}/transitions", NULL, "getIncidentTransitions", "Incidents", 200, JSON,
       "{incident$,state$,level#,transitions[],links[]}",
       "An incident's state, level, deadline and history",
       "id path string I0000001 the incident's id"),
    WRITE("POST /incidents/{id}/transitions", "transitionIncident", "Incidents", 201, JSON, NULL,
          JSON, "{\"action\":\"accept\"}",
          "Move an incident through its flow (accept, assign, escalate, close …)",
          "id path string I0000001 the incident's id"),
    /* ---- planning -------------------------------------------------------------------- */
    WRITE("POST /plan/drafts", "createDraft", "Planning", 201, JSON, NULL, JSON,
          "{\"name\":\"openapi example\"}", "Start a draft of the grid layout", NULL),
    OP("GET /plan/drafts", NULL, "getDrafts", "Planning", 200, JSON, "{drafts[]}", "The drafts",
       NULL),
    OP("GET /plan/drafts/{id}", NULL, "getDraft", "Planning", 200, JSON, NULL, "One draft",
       P_DRAFT),
    OP("DELETE /plan/drafts/{id}", NULL, "deleteDraft", "Planning", 204, NULL, NULL, "Drop a draft",
       P_DRAFT),
    OP("GET /plan/drafts/{id}/diff", NULL, "getDraftDiff", "Planning", 200, JSON, NULL,
       "What the draft changes against the published layout", P_DRAFT),
    WRITE(
        "POST /plan/drafts/{id}/edits", "editDraft", "Planning", 200, JSON, NULL, JSON,
        "{\"op\":\"attributes\",\"grid\":\"371702-001-0001\",\"properties\":{\"worker\":\"example\"}}",
        "One edit of the draft (split, merge, move a border, reassign …)", P_DRAFT),
    OP("GET /plan/drafts/{id}/validation", NULL, "validateDraft", "Planning", 200, GEOJSON, NULL,
       "Gaps, overlaps and grids outside in the draft's layout (GeoJSON)", P_DRAFT),
    OP("GET /plan/drafts/{id}/validation/tiles/{z}/{x}/{y}",
       "/plan/drafts/{id}/validation/tiles/{z}/{x}/{y}.mvt", "getDraftValidationTile", "Planning",
       200, MVT, NULL, "The draft's validation issues as a vector tile", P_DRAFT, P_Z, P_X, P_Y),
    WRITE(
        "POST /plan/drafts/{id}/import", "importDraftLayout", "Planning", 200, JSON, NULL, GEOJSON,
        NULL,
        "Replace the draft's grids with an uploaded layout (GeoJSON, GeoPackage, zipped Shapefile, DXF)",
        P_DRAFT, "map query string - field map, e.g. id=code,name=label"),
    OP("GET /plan/drafts/{id}/balance", NULL, "getDraftBalance", "Planning", 200, JSON, NULL,
       "Workload balance of the draft against the published layout", P_DRAFT),
    OP("GET /plan/drafts/{id}/grids", NULL, "getDraftGrids", "Planning", 200, GEOJSON, NULL,
       "The draft's effective grids (GeoJSON)", P_DRAFT, "@bbox",
       "changed query boolean - only the grids the draft changes"),
    OP("POST /plan/drafts/{id}/publish", NULL, "publishDraft", "Planning", 200, JSON, NULL,
       "Publish the draft as the new layout", P_DRAFT,
       "force query boolean - publish despite validation warnings"),
    OP("GET /plan/versions", NULL, "getLayoutVersions", "Planning", 200, JSON,
       "[{version#,status$,grids#}]", "The published layouts", NULL),
    OP("GET /plan/versions/{n}/validation", NULL, "validateLayoutVersion", "Planning", 200, GEOJSON,
       NULL, "Validation of a published layout (GeoJSON)", "n path integer 1 the version"),
    OP("POST /plan/versions/{n}/rollback", NULL, "rollbackLayout", "Planning", 200, JSON, NULL,
       "Publish an earlier layout again", "n path integer 1 the version"),
    OP("POST /plan/drafts/{id}/suggest", NULL, "suggestDraftEdits", "Planning", 201, JSON, NULL,
       "Suggest edits that balance the draft's workload (a new draft)", P_DRAFT,
       "target query string - what is balanced",
       "max_cv query number - stop at this coefficient of variation",
       "max_edits query integer - at most this many edits",
       "min_compactness query number - least compactness of a changed grid"),
    /* ---- live events ----------------------------------------------------------------- */
    OP("GET /events", NULL, "getEvents", "Events", 200, "text/event-stream", NULL,
       "Server-sent events: incidents, team moves, grid and layout changes",
       "types query string - event types, comma-separated (e.g. incident.created,team.moved)",
       "bbox query string - only changes inside minx,miny,maxx,maxy (CRS84)",
       "last_event_id query integer - resume after this event (or the Last-Event-ID header)"),
    /* ---- the map wall ---------------------------------------------------------------- */
    OP("GET /wall", NULL, "getWall", "Wall", 200, "text/html", NULL, "The map wall page", NULL),
    OP("GET /wall/{file}", NULL, "getWallFile", "Wall", 200, "*/*", NULL, "A file of the map wall",
       "file path string style.css the file's name"),
    OP("GET /wall/{dir}/{file}", NULL, "getWallDirFile", "Wall", 200, "*/*", NULL,
       "A file of the map wall in a folder (vendor: MapLibre GL)", "dir path string js the folder",
       "file path string app.js the file's name"),
    OP("GET /web", NULL, "getWallAlias", "Wall", 200, "text/html", NULL,
       "The map wall page (old address)", NULL),
    OP("GET /web/{file}", NULL, "getWallFileAlias", "Wall", 200, "*/*", NULL,
       "A file of the map wall (old address)", "file path string style.css the file's name"),
    OP("GET /web/{dir}/{file}", NULL, "getWallDirFileAlias", "Wall", 200, "*/*", NULL,
       "A file of the map wall in a folder (old address)", "dir path string js the folder",
       "file path string app.js the file's name"),
    /* ---- what the styles draw labels and symbols with (labels_http.c) ---------------- */
    OP("GET /fonts/{fontstack}/{range}", "/fonts/{fontstack}/{range}.pbf", "getGlyphs", "Tiles",
       200, "application/x-protobuf", NULL,
       "Glyphs of 256 code points (MapLibre glyphs.proto: signed distance fields, 24 px)",
       "fontstack path string Noto+Sans+CJK+SC+Regular the font (a comma-separated list: the first "
       "served one; fonts: Noto Sans CJK SC Regular, Noto Sans CJK SC Bold)",
       "range path string 19968-20223 the code points {start}-{start+255}, start a multiple of 256 "
       "(the path ends in .pbf)"),
    OP("GET /sprite.json", NULL, "getSprite", "Tiles", 200, JSON, NULL,
       "The sprite's index (MapLibre: icon name -> x, y, width, height, pixelRatio)", NULL),
    OP("GET /sprite.png", NULL, "getSpriteImage", "Tiles", 200, "image/png", NULL,
       "The sprite's image", NULL),
    OP("GET /sprite@2x.json", NULL, "getSprite2x", "Tiles", 200, JSON, NULL,
       "The sprite's index for high-density screens", NULL),
    OP("GET /sprite@2x.png", NULL, "getSpriteImage2x", "Tiles", 200, "image/png", NULL,
       "The sprite's image for high-density screens", NULL),
    /* ---- operations ------------------------------------------------------------------ */
    OP("GET /healthz", NULL, "getHealth", "Operations", 200, JSON, "{status$,database$,seq#}",
       "Liveness and database check", NULL),
    OP("GET /metrics", NULL, "getMetrics", "Operations", 200, "text/plain; version=0.0.4", NULL,
       "Prometheus metrics", NULL),
};

const oa_op *oa_op_find(const char *method, const char *pattern)
{
    size_t ml = strlen(method);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strncmp(ops[i].route, method, ml) == 0 && ops[i].route[ml] == ' ' &&
            strcmp(ops[i].route + ml + 1, pattern) == 0)
            return &ops[i];
    return NULL;
}

const oa_op *oa_op_at(size_t i) { return i < sizeof ops / sizeof ops[0] ? &ops[i] : NULL; }
