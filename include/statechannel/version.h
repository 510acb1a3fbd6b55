/*
 * statechannel/version.h — the version of StateChannel this header
 * belongs to (the library, the statechannel command and every app print
 * it with --version).  Installed beside statechannel.h, which includes
 * it.
 */
#ifndef SC_STATECHANNEL_VERSION_H
#define SC_STATECHANNEL_VERSION_H

#define SC_VERSION_MAJOR 0
#define SC_VERSION_MINOR 1
#define SC_VERSION_PATCH 0
/* "MAJOR.MINOR.PATCH"; the Makefile reads it for statechannel.pc. */
#define SC_VERSION "0.1.0"
/* One number that grows with each release: 0x00MMmmpp. */
#define SC_VERSION_NUMBER                                                      \
	((SC_VERSION_MAJOR << 16) | (SC_VERSION_MINOR << 8) | SC_VERSION_PATCH)

#endif
