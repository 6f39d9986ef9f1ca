/* env.h: facts about the machine a run happens on, stored with every run. */
#ifndef EB_ENV_H
#define EB_ENV_H

#include <jansson.h>

/*
 * Collects host, OS (PRETTY_NAME), kernel, arch, CPU model, online cores, memory, CPU
 * governor and the environment variables that change llama.cpp's behaviour. Returns a
 * new object the caller owns (json_decref). Facts that cannot be read are left out.
 */
json_t *eb_env_collect(void);

/* A random (version 4) UUID as 36 characters + NUL. */
void eb_uuid4(char out[37]);

/* Peak resident set size of this process in bytes (VmHWM), or -1. */
long long eb_env_peak_rss(void);

/* Resets the peak RSS counter (writes 5 to /proc/self/clear_refs). 0 on success. */
int eb_env_reset_peak_rss(void);

#endif
