/* common/log.h — the logger is public: it lives in
 * include/statechannel/log.h (installed as <statechannel/log.h>); this
 * name keeps in-tree includes working. */
#include "../include/statechannel/log.h"
