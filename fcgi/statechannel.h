/* fcgi/statechannel.h — the public API lives in
 * include/statechannel/statechannel.h (installed as
 * <statechannel/statechannel.h>); this name keeps in-tree includes
 * working. */
#include "../include/statechannel/statechannel.h"
