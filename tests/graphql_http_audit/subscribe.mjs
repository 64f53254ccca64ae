// Listen to new orders with graphql-ws, the client most SPAs use for graphql-transport-ws.
// Usage: node subscribe.mjs <ws://host:port/graphql> <token> [organization slug]
import { createClient } from "graphql-ws";
import WebSocket from "ws"; // browsers have WebSocket built in: leave this and `webSocketImpl` out there

const [url, token, organization] = process.argv.slice(2);

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  // Browsers cannot set headers on a websocket: the credentials go in connection_init.
  connectionParams: { Authorization: `Bearer ${token}`, "X-Organization": organization },
  keepAlive: 10_000, // ping the server too, so a dead connection is noticed from this side
});

const orders = client.iterate({
  query: "subscription { orderCreated { id number total { amount currency } account { name } } }",
});

for await (const event of orders) {
  if (event.errors) throw new Error(JSON.stringify(event.errors));
  console.log(JSON.stringify(event.data.orderCreated)); // show the order in the list
  break; // this example stops after one; an app keeps listening
}
await client.dispose();
