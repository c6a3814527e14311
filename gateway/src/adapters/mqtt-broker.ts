import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import { createServer, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { BrokerAccess, MqttPrincipal } from '../mqtt/access.ts';
import { MAX_MQTT_PACKET_BYTES } from '../mqtt/mosquitto-files.ts';
import { inProcessConnection } from './mqtt-in-process.ts';

export interface EmbeddedBroker {
  url: string;
  port: number;
  /**
   * A connection to this broker from inside the process (the gateway's own ingress): MQTT as over
   * TCP, with the same login and access hooks, but no loopback socket (no syscalls per packet).
   */
  connect(): Duplex;
  close(): Promise<void>;
}

/** MQTT 3.1.1 CONNACK return code 4 (aedes' AuthErrorCode.BAD_USERNAME_OR_PASSWORD). */
const BAD_USERNAME_OR_PASSWORD = 4;

/**
 * The embedded MQTT broker (aedes) `hexedge dev` runs so a fresh clone needs no Mosquitto. aedes
 * speaks MQTT 3.1.1 only (no v5, no `$share`), so against it the ingress connects as v3.1.1 and clients
 * use the `req/{clientId}/{requestId}` form. With `access`, clients must log in (device password or
 * API key) and stay on their own topics; without it the broker is open (tests of the broker alone).
 */
export async function startEmbeddedBroker(options: {
  port: number;
  host: string;
  access?: BrokerAccess;
  maxPacketBytes?: number;
}): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker(options.access ? accessHooks(options.access) : {});
  const maxPacketBytes = options.maxPacketBytes ?? MAX_MQTT_PACKET_BYTES;
  const server = createServer((socket) => {
    // Without TCP_NODELAY a QoS 1 round trip waits on Nagle + delayed ACK: 88 ms measured instead of <0.5 ms.
    socket.setNoDelay(true);
    boundPacketSize(broker.handle(socket), socket, maxPacketBytes);
  });
  const inProcess = new Set<Duplex>();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`MQTT port ${options.port} is already in use; pick another with --mqtt-port`)
          : err,
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://${options.host}:${port}`,
    port,
    connect() {
      const [client, server] = inProcessConnection();
      boundPacketSize(broker.handle(server), server, maxPacketBytes);
      inProcess.add(server);
      server.once('close', () => inProcess.delete(server));
      return client;
    },
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
        // aedes closes the clients it knows; a connection still before CONNECT is closed here.
        for (const end of inProcess) end.destroy();
      }),
  };
}

function accessHooks(access: BrokerAccess): AedesOptions {
  const principals = new WeakMap<Client, MqttPrincipal>();
  return {
    authenticate: (client, username, password, done) => {
      access
        .authenticate({
          clientId: client.id,
          ...(username !== undefined ? { username } : {}),
          ...(password ? { password: password.toString('utf8') } : {}),
        })
        .then(
          (principal) => {
            if (!principal)
              return done(
                Object.assign(new Error('bad username or password'), {
                  returnCode: BAD_USERNAME_OR_PASSWORD,
                }) as AuthenticateError,
                false,
              );
            principals.set(client, principal);
            done(null, true);
          },
          (err: Error) =>
            done(Object.assign(err, { returnCode: BAD_USERNAME_OR_PASSWORD }) as AuthenticateError, false),
        );
    },
    // MQTT 3.1.1 has no negative PUBACK: a refused publish disconnects the offender (only it).
    authorizePublish: (client, packet, done) => {
      if (!client) return done(null); // the broker's own messages (wills are checked at connect)
      const principal = principals.get(client);
      done(
        principal && access.canPublish(principal, packet.topic)
          ? null
          : new Error(`client ${client.id} may not publish to ${packet.topic}`),
      );
    },
    // A null subscription is a SUBACK failure (0x80) for that filter; the connection stays up.
    authorizeSubscribe: (client, subscription, done) => {
      const principal = principals.get(client);
      done(null, principal && access.canSubscribe(principal, subscription.topic) ? subscription : null);
    },
  };
}

/**
 * aedes has no packet size limit; the parser learns a packet's length from its fixed header before
 * buffering the body, so a connection announcing an oversized packet is dropped at once.
 */
function boundPacketSize(client: Client, socket: Duplex, maxPacketBytes: number): void {
  const parser = (
    client as unknown as { _parser?: { parse(buf: Buffer): unknown; packet?: { length?: number } } }
  )._parser;
  if (!parser) return; // a future aedes without this internal: the broker still works, unbounded
  const parse = parser.parse.bind(parser);
  parser.parse = (buf: Buffer) => {
    const result = parse(buf);
    if ((parser.packet?.length ?? 0) > maxPacketBytes) socket.destroy();
    return result;
  };
}
