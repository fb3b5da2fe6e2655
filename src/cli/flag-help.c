/* What each flag does, for `strata VERB --help`: the Options table Docker prints, with a type
 * word for flags that take a value ("list" when the flag may be repeated). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "basic/util.h"
#include "cli/cli.h"

struct flag_help {
        const char *key;  /* "VERB FLAG" for one verb, or "FLAG" for every verb */
        const char *type; /* of the value; NULL: "string" */
        const char *text;
};

static const struct flag_help help[] = {
        /* build */
        { "build tag", "list", "Name and optionally a tag (name:tag) for the image" },
        { "build file", NULL, "The Dockerfile (default: PATH/Dockerfile; - for stdin)" },
        { "build build-arg", "list",
          "Set a build-time variable (KEY=VALUE, or KEY from the environment)" },
        { "build target", NULL, "Build up to this stage" },
        { "build no-cache", NULL, "Do not use the build cache" },
        { "build label", "list", "Set a label on the image (KEY=VALUE)" },
        { "build network", NULL, "Network of RUN steps: default (the host's), host or none" },
        { "build progress", NULL, "Progress output: auto, plain, tty or quiet" },
        { "build quiet", NULL, "Print only the image ID" },
        { "build iidfile", NULL, "Write the image ID to this file" },
        { "build pull", NULL, "Always pull the base images" },
        { "build secret", "list", "A secret for RUN --mount=type=secret (id=ID,src=PATH|env=VAR)" },
        { "build compression", NULL, "Compression of new layers: gzip (default), zstd or none" },
        { "build compression-level", "int",
          "Compression level (gzip 1-9, default 6; 1 is the fast one)" },
        { "build explain", NULL, "Say which input made each cache miss" },
        { "build no-cache-filter", "list", "Do not use the cache for these stages" },
        { "build allow", "list", "Grant an entitlement: security.insecure, network.host" },
        { "builder all", NULL, "Remove the whole build cache, not only unused entries" },
        { "builder force", NULL, "Do not ask for confirmation" },
        { "builder keep-storage", "bytes",
          "Keep this much of the cache (least recently used goes)" },
        { "builder filter", "list", "Only entries older than until=DURATION" },
        /* containers */
        { "name", NULL, "Assign a name to the container" },
        { "env", "list", "Set an environment variable (KEY=VALUE, or KEY from here)" },
        { "env-file", "list", "Read environment variables from a file" },
        { "workdir", NULL, "Working directory inside the container" },
        { "user", NULL, "User name or UID, and optionally group (USER[:GROUP])" },
        { "entrypoint", NULL, "Overwrite the image's ENTRYPOINT" },
        { "hostname", NULL, "Container host name" },
        { "network", NULL, "Network: none (default) or host" },
        { "net", NULL, "Same as --network" },
        { "volume", "list", "Bind mount (SRC:DEST[:ro]) or anonymous volume (DEST)" },
        { "tmpfs", "list", "Mount a tmpfs (DEST[:OPTIONS])" },
        { "read-only", NULL, "Mount the container's root filesystem read-only" },
        { "privileged", NULL, "Every capability, no seccomp filter, the host's devices" },
        { "cap-add", "list", "Add a Linux capability" },
        { "cap-drop", "list", "Drop a Linux capability" },
        { "memory", "bytes", "Memory limit" },
        { "cpus", "decimal", "Number of CPUs" },
        { "pids-limit", "int", "Limit on the number of processes (-1: unlimited)" },
        { "ulimit", "list", "Set a resource limit (NAME=SOFT[:HARD])" },
        { "runtime", NULL, "OCI runtime: runc (default), crun, or a path" },
        { "run pull", NULL, "Pull the image: missing (default), always or never" },
        { "create pull", NULL, "Pull the image: missing (default), always or never" },
        { "security-opt", "list",
          "Security options: no-new-privileges, seccomp=PROFILE|unconfined" },
        { "rm", NULL, "Remove the container when it exits" },
        { "interactive", NULL, "Keep STDIN open" },
        { "tty", NULL, "Allocate a pseudo-TTY" },
        { "detach", NULL, "Run in the background and print the container ID" },
        { "exec detach", NULL, "Run the command in the background" },
        { "start attach", NULL, "Attach STDOUT/STDERR and forward signals" },
        { "start interactive", NULL, "Attach the container's STDIN" },
        { "time", "int", "Seconds to wait for the container to stop before killing it" },
        { "timeout", "int", "Same as --time" },
        { "signal", NULL, "Signal to send (default KILL)" },
        { "rm force", NULL, "Kill and remove a running container" },
        { "rm volumes", NULL, "Remove the container's anonymous volumes" },
        { "ps all", NULL, "Show all containers (default shows only running ones)" },
        { "follow", NULL, "Follow the log output" },
        { "timestamps", NULL, "Show timestamps" },
        { "tail", NULL, "Number of lines to show from the end (default all)" },
        { "change", "list", "Apply a Dockerfile instruction to the image" },
        { "message", NULL, "Message for the image's history" },
        { "author", NULL, "Author of the image" },
        { "pause", "bool", "Accepted for Docker's sake: the writable layer is read as it is" },
        { "export output", NULL, "Write to a file instead of STDOUT" },
        { "archive", NULL, "Keep UID/GID of the copied files" },
        { "follow-link", NULL, "Always follow a symbolic link in SRC_PATH" },
        { "cp quiet", NULL, "Print nothing but errors" },
        /* images */
        { "images all", NULL, "Show all images, intermediate ones too" },
        { "digests", NULL, "Show digests" },
        { "no-trunc", NULL, "Do not truncate output" },
        { "format", NULL, "Format the output with a Go template, or json" },
        { "filter", "list",
          "Filter the output (dangling=true, label=K[=V], before=, since=, reference=)" },
        { "quiet", NULL, "Print only IDs" },
        { "human", "bool", "Print sizes and dates in human-readable form (default true)" },
        { "history quiet", NULL, "Print only the image IDs" },
        { "import platform", NULL, "Platform of the image (os/arch[/variant])" },
        { "type", NULL, "Only this kind of object: image or container" },
        { "remote", NULL, "Inspect the image in its registry, not in the store" },
        { "platform", NULL, "Platform to select (os/arch[/variant])" },
        { "tls-verify", "bool", "Verify the registry's TLS certificate (default true)" },
        { "insecure", NULL, "Allow a registry without verified TLS" },
        { "save output", NULL, "Write to a file instead of STDOUT" },
        { "load input", NULL, "Read from a tar archive file instead of STDIN" },
        { "load quiet", NULL, "Print nothing but errors" },
        { "rmi force", NULL, "Remove the image even if containers use it, and every tag of it" },
        { "system all", NULL,
          "Remove every unused image, not only dangling ones, and the build cache" },
        { "container all", NULL, "No effect: every stopped container is removed" },
        { "image all", NULL, "Remove every unused image, not only dangling ones" },
        { "force", NULL, "Do not ask for confirmation" },
        { "repair", NULL, "Repair what can be repaired" },
        { "json", NULL, "Print JSON" },
        /* registries */
        { "all-tags", NULL, "Every tagged image of the repository" },
        { "pull quiet", NULL, "Print no progress and no summary" },
        { "push quiet", NULL, "Print nothing but errors" },
        { "max-concurrent-downloads", "int", "Layers to download at once (default 6)" },
        { "max-concurrent-uploads", "int", "Layers to upload at once (default 5)" },
        { "username", NULL, "User name" },
        { "password", NULL, "Password (prefer --password-stdin)" },
        { "password-stdin", NULL, "Read the password from STDIN" },
};

/* The help of FLAG for VERB: the verb's own entry, else the common one; NULL if none. */
static const struct flag_help *find(const char *verb, const char *flag)
{
        size_t n = strlen(verb);
        for (size_t i = 0; i < ELEMENTSOF(help); i++)
                if (strncmp(help[i].key, verb, n) == 0 && help[i].key[n] == ' ' &&
                    streq(help[i].key + n + 1, flag))
                        return &help[i];
        for (size_t i = 0; i < ELEMENTSOF(help); i++)
                if (streq(help[i].key, flag))
                        return &help[i];
        return NULL;
}

#define COL_MAX 64 /* flags of one verb */

/* The Options table of VERB's flags OPTS on stdout. */
static void print_flags(const char *verb, const char *shorts, const struct option *opts)
{
        printf("\nOptions:\n");

        struct {
                char col[80]; /* "  -t, --tag list" */
                const struct flag_help *h;
        } rows[COL_MAX];

        size_t n = 0, width = 0;
        for (const struct option *o = opts; o->name && n < COL_MAX; o++) {
                if (streq(o->name, "help"))
                        continue;
                char sf[8] = "    ";
                if (o->val > ' ' && o->val < 127 && strchr(shorts, o->val))
                        snprintf(sf, sizeof(sf), "-%c, ", o->val);
                const struct flag_help *h = find(verb, o->name);
                const char *type = o->has_arg == no_argument ? ""
                                   : h && h->type            ? h->type
                                                             : "string";
                snprintf(rows[n].col, sizeof(rows[n].col), "  %s--%s%s%s", sf, o->name,
                         *type ? " " : "", type);
                rows[n].h = h;
                width = MAX(width, strlen(rows[n].col));
                n++;
        }
        for (size_t i = 0; i < n; i++)
                printf("%-*s   %s\n", (int)width, rows[i].col, rows[i].h ? rows[i].h->text : "");
}

int cli_help_flags(const char *verb, const char *shorts, const struct option *opts)
{
        int r = cli_help(verb);
        print_flags(verb, shorts, opts);
        return r;
}
