// The SharedWorker of statechannel-client (see ./shared.js): holds one
// stream per baseUrl for every tab of this origin.
import { serveSharedWorker } from './shared.js';

serveSharedWorker(globalThis);
