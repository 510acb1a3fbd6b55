// Through Apache + mod_fcgid: the app spawned by mod_fcgid (fd 0), one
// request per process (every open stream pins one), mounted at /app/.
import { defineSuite } from './lib/suite.js';
import { startApacheFcgid } from './lib/servers.js';

defineSuite('apache mod_fcgid (at /app/)', () => startApacheFcgid({ prefix: '/app', procs: 24 }),
	{ multiProcess: 'pinned', prefix: '/app/', streams: 12 });
