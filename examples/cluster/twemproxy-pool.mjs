// The pool as twemproxy sees it: one nutcracker in front of the nodes, the
// application talking to it over its unix socket (proxy-client.mjs). A
// switch writes the new server list into a new config and replaces the
// nutcracker (twemproxy.mjs); the reader reconnects by itself.
import { join } from 'node:path';
import { findNutcracker, startTwemproxy, switchTwemproxy, stopAllTwemproxies } from './twemproxy.mjs';
import { loadThroughProxy, sweepThroughProxy, keyOf, ProxyReader } from './proxy-client.mjs';

/** `nodes`: [{ name, host, port }]; `opts`: { keys, valueBytes, rate, proxySwitch }. */
export async function twemproxyPool(dir, nodes, opts) {
  const bin = findNutcracker();
  if (!bin) throw new Error('nutcracker (twemproxy) is not installed: apt-get install -y nutcracker');
  const publicPath = join(dir, 'proxy.sock');
  let proxy = await startTwemproxy(bin, dir, '1', publicPath, nodes);
  let generation = 1;
  let reader = null;
  return {
    describe: () => `twemproxy (nutcracker pid ${proxy.pid}, config ${proxy.config}) listening on ${publicPath}`,
    load: () => loadThroughProxy(publicPath, opts.keys, opts.valueBytes),
    startReading() {
      reader = new ProxyReader(publicPath, { keys: opts.keys, valueBytes: opts.valueBytes, rate: opts.rate });
      reader.start();
    },
    async switchTo(servers) {
      proxy = await switchTwemproxy(bin, dir, String(++generation), proxy, publicPath, servers, opts.proxySwitch);
    },
    sweep: () => sweepThroughProxy(publicPath, Array.from({ length: opts.keys }, (_, i) => keyOf(i))),
    stopReading: () => reader.stop(),
    // Every nutcracker of this run, also one a switch had started when it was interrupted.
    close: async () => { await reader?.stop(); await stopAllTwemproxies(); },
  };
}
