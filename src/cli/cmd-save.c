/* strata save / strata load: placeholders until the archive formats land. */
#include "cli/cli.h"

int verb_save(struct cli *c, int argc, char **argv)
{
        (void)c;
        (void)argc;
        (void)argv;
        return cli_usage_error("save", "save is not implemented yet");
}

int verb_load(struct cli *c, int argc, char **argv)
{
        (void)c;
        (void)argc;
        (void)argv;
        return cli_usage_error("load", "load is not implemented yet");
}
