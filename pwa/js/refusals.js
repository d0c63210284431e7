// socket.io never connects again after the server refused a connection. A refusal that says
// "try again" (503: the server's database restarting or failing over) is tried again after
// 1-3 s, spread out so that a shop's phones and screens do not all come back in one instant.
export function connectAgainWhenAsked(socket) {
  socket.on("connect_error", (error) => {
    if (error.data?.status === 503) setTimeout(() => socket.connect(), 1000 + Math.random() * 2000);
  });
}
