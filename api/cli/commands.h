/* commands.h — the sub-commands of the gridwatch CLI; each takes argv starting at its name. */
#ifndef GW_COMMANDS_H
#define GW_COMMANDS_H

#include <stdint.h>

int gw_cmd_init(int argc, char **argv);
int gw_cmd_import(int argc, char **argv);
int gw_cmd_export(int argc, char **argv);
int gw_cmd_gen_city(int argc, char **argv);
int gw_cmd_stats(int argc, char **argv);
int gw_cmd_serve(int argc, char **argv);
int gw_cmd_demo(int argc, char **argv);
int gw_cmd_coverage(int argc, char **argv);
int gw_cmd_tiles(int argc, char **argv);
int gw_cmd_hotspots(int argc, char **argv);
int gw_cmd_plan(int argc, char **argv);
int gw_cmd_token(int argc, char **argv);
int gw_cmd_copy(int argc, char **argv);
int gw_cmd_incident(int argc, char **argv);
int gw_cmd_accounts(int argc, char **argv);
int gw_cmd_jurisdictions(int argc, char **argv);
int gw_cmd_roads(int argc, char **argv);

/* Generate the synthetic city into db (gen-city and demo share it), with the ground truth of its
 * planted hotspots at `truth` (NULL: none); an exit code. */
int cli_gen_city(const char *db, double scale, int prefectures, uint64_t seed, const char *region,
                 const char *truth, int quiet);

#endif
