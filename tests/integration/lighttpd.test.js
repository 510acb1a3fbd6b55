// Through lighttpd: the app spawned by lighttpd (bin-path, fd 0), two
// processes, the routes at the site root.
import { defineSuite } from './lib/suite.js';
import { startLighttpd } from './lib/servers.js';

defineSuite('lighttpd (bin-path, max-procs 2, at /)', () => startLighttpd({ prefix: '/', procs: 2 }),
	{ multiProcess: 'balanced', prefix: '/' });
