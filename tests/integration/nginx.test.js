// Through nginx to the app on its own socket (--listen), mounted at
// /sc/api/ (a deeper prefix).
import { defineSuite } from './lib/suite.js';
import { startNginx } from './lib/servers.js';

defineSuite('nginx (--listen, at /sc/api/)', () => startNginx({ prefix: '/sc/api/' }),
	{ prefix: '/sc/api/' });
