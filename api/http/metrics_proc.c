/* metrics_proc.c — the standard Prometheus process metrics for /metrics (the names every
 * client library uses, so stock dashboards and alerts work): CPU seconds, resident and virtual
 * memory, open and maximum file descriptors, start time; read from /proc/self. */
#include "server_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* /proc/self/stat fields after the command (which may hold spaces and parentheses): field 3
 * is the first; utime 14, stime 15, starttime 22, vsize 23, rss 24. */
static int proc_stat(double *cpu_s, double *start_ticks, double *vsize, double *rss_pages)
{
    char buf[2048];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    p++;
    double v[24] = {0};
    int field = 3;
    char *save = NULL;
    for (char *t = strtok_r(p, " ", &save); t && field <= 24; t = strtok_r(NULL, " ", &save))
        v[field - 3 < 24 ? field - 3 : 23] = strtod(t, NULL), field++;
    if (field <= 24) return -1;
    long tck = sysconf(_SC_CLK_TCK);
    if (tck <= 0) tck = 100;
    *cpu_s = (v[14 - 3] + v[15 - 3]) / (double)tck;
    *start_ticks = v[22 - 3] / (double)tck;
    *vsize = v[23 - 3];
    *rss_pages = v[24 - 3];
    return 0;
}

/* Seconds since the epoch at boot (/proc/stat btime). */
static double boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    char line[256];
    double bt = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "btime ", 6) == 0) {
            bt = strtod(line + 6, NULL);
            break;
        }
    fclose(f);
    return bt;
}

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

void srv_metrics_process(gw_buf *b)
{
    double cpu, start, vsize, rss;
    if (proc_stat(&cpu, &start, &vsize, &rss) == 0) {
        long page = sysconf(_SC_PAGESIZE);
        gw_buf_printf(b,
                      "# HELP process_cpu_seconds_total Total user and system CPU time spent in "
                      "seconds.\n"
                      "# TYPE process_cpu_seconds_total counter\n"
                      "process_cpu_seconds_total %.2f\n"
                      "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                      "# TYPE process_resident_memory_bytes gauge\n"
                      "process_resident_memory_bytes %.0f\n"
                      "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
                      "# TYPE process_virtual_memory_bytes gauge\n"
                      "process_virtual_memory_bytes %.0f\n"
                      "# HELP process_start_time_seconds Start time of the process since unix "
                      "epoch in seconds.\n"
                      "# TYPE process_start_time_seconds gauge\n"
                      "process_start_time_seconds %.2f\n",
                      cpu, rss * (double)(page > 0 ? page : 4096), vsize, boot_time() + start);
    }
    long fds = open_fds();
    struct rlimit rl;
    if (fds >= 0)
        gw_buf_printf(b,
                      "# HELP process_open_fds Number of open file descriptors.\n"
                      "# TYPE process_open_fds gauge\n"
                      "process_open_fds %ld\n",
                      fds);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        gw_buf_printf(b,
                      "# HELP process_max_fds Maximum number of open file descriptors.\n"
                      "# TYPE process_max_fds gauge\n"
                      "process_max_fds %llu\n",
                      (unsigned long long)rl.rlim_cur);
}
