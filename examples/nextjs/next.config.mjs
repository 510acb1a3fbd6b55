// The browser talks to the StateChannel routes on this app's own origin
// (no CORS): /state, /events and /stream are passed on to the FastCGI
// server at STATECHANNEL_URL (default http://127.0.0.1:8080, `make run`).
const target = (process.env.STATECHANNEL_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');

/** @type {import('next').NextConfig} */
export default {
  reactStrictMode: true,
  // gzip would hold back an event stream until a buffer fills: off.
  compress: false,
  poweredByHeader: false,
  // The page imports the demo's mutators from ../shopping/www.
  experimental: { externalDir: true },
  async rewrites() {
    return [
      { source: '/state/:topic', destination: `${target}/state/:topic` },
      { source: '/events/:topic', destination: `${target}/events/:topic` },
      { source: '/stream/:topic', destination: `${target}/stream/:topic` },
      { source: '/stream', destination: `${target}/stream` },
    ];
  },
};
