// dynalite's own command line, surviving clients that hang up in the middle of a request.
//
// dynalite rethrows a request stream's 'error' event: "aborted" when a client disconnects before
// its whole body arrived (a worker killed mid-write, a client that timed out). Uncaught, that
// ends the process, and the in-memory tables with it. Only that error is survived here; any
// other uncaught error still ends the process, as before.
const path = require('path')

process.on('uncaughtException', (err) => {
  if (err && (err.message === 'aborted' || err.code === 'ECONNRESET')) {
    console.error(`dynalite: a client hung up mid-request (${err.message}); carrying on`)
    return
  }
  console.error(err)
  process.exit(1)
})

require(path.join(__dirname, '..', '..', 'node_modules', 'dynalite', 'cli.js'))
