// Through Apache + mod_proxy_fcgi to the app on its own socket (--listen),
// mounted at /app/.
import { defineSuite } from './lib/suite.js';
import { startApacheProxy } from './lib/servers.js';

defineSuite('apache mod_proxy_fcgi (--listen, at /app/)', () => startApacheProxy({ prefix: '/app' }),
	{ prefix: '/app/' });
