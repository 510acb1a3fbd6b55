/* common/error.h — the error enum is public: it lives in
 * include/statechannel/error.h (installed as <statechannel/error.h>);
 * this name keeps in-tree includes working. */
#include "../include/statechannel/error.h"
