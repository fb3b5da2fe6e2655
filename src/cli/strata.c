#include <stdio.h>

#include "basic/log.h"

int main(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        log_setup();
        puts("strata " STRATA_VERSION);
        return 0;
}
