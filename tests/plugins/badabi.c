/* A plugin that claims ABI 2.0: the loader must refuse it before calling anything else. */
#include <stdint.h>
#include <stdlib.h>

uint32_t hazmon_plugin_abi(void);
const void *hazmon_plugin_describe(void);

uint32_t
hazmon_plugin_abi(void)
{
	return 2u << 16;
}

const void *
hazmon_plugin_describe(void)
{
	abort();	/* never reached: the ABI check comes first */
}
