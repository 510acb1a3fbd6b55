/*
 * bench/fcgi_bare.c — the baseline of bench/fcgi.sh: the most trivial
 * FastCGI responder (libfcgi, one request at a time), so that the cost of
 * lighttpd -> FastCGI alone can be measured beside the application.
 * Serves on fd 0 (spawned by lighttpd's bin-path) and answers every
 * request with a small JSON body.
 */
#include <fcgiapp.h>

int main(void)
{
	FCGX_Request r;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutS("Status: 200 OK\r\n"
			  "Content-Type: application/json\r\n"
			  "Content-Length: 12\r\n\r\n"
			  "{\"ok\":true}\n",
			  r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
