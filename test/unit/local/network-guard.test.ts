import http from 'node:http';
import net from 'node:net';
import { isLoopbackHost, NetworkBlockedError } from '../../../infra/local/network-guard.js';

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.5.6.7', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['10.0.0.1', false],
    ['192.168.1.1', false],
    ['dynamodb.us-east-1.amazonaws.com', false],
    ['8.8.8.8', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('installLoopbackGuard (installed by the test setup)', () => {
  it('fails when a test connects to a non-loopback address', () => {
    expect(() => net.connect(443, '10.1.2.3')).toThrow(NetworkBlockedError);
  });

  it('fails when an HTTP request targets an AWS endpoint', () => {
    expect(() => http.get('http://ec2.us-east-1.amazonaws.com/')).toThrow(NetworkBlockedError);
  });

  it('still allows loopback servers', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const body = await new Promise<string>((resolve, reject) => {
      http.get(`http://127.0.0.1:${port}/`, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    server.close();
    expect(body).toBe('ok');
  });
});
