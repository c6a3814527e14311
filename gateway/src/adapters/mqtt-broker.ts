import { Aedes } from 'aedes';
import { createServer, type AddressInfo } from 'node:net';

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The embedded MQTT broker (aedes) `hexedge dev` runs so a fresh clone needs no Mosquitto. */
export async function startEmbeddedBroker(options: { port: number; host: string }): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`MQTT port ${options.port} is already in use; pick another with --mqtt-port`) : err),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://${options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
      }),
  };
}
