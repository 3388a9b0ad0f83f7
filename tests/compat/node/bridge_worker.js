'use strict';
// The worker thread of usb_shim.js: owns the TCP connection to the USB bridge and answers the main thread's
// requests. Synchronous calls are answered on `syncPort` and signalled through Atomics, because the main thread is
// blocked in Atomics.wait; asynchronous calls are answered on parentPort.
const net = require('net');
const { parentPort, workerData } = require('worker_threads');

const { address, syncPort, signal } = workerData;
const flag = new Int32Array(signal);
const pending = new Map(); // request id -> { sync }
let socket = null;
let buffered = '';
let failure = null;

function deliver(reply, sync) {
	if (sync) {
		syncPort.postMessage(reply);
		Atomics.store(flag, 0, 1);
		Atomics.notify(flag, 0);
	} else {
		parentPort.postMessage(reply);
	}
}

// The bridge is gone: every call fails as if the device were unplugged, and says why.
function bridgeFailure(id, message) {
	return { id, ok: false, error: 'LIBUSB_ERROR_NO_DEVICE', code: -4, message, bridgeFailed: true };
}

function failAll(message) {
	failure = message;
	for (const [id, { sync }] of pending) {
		deliver(bridgeFailure(id, message), sync);
	}
	pending.clear();
}

function connect() {
	const [host, port] = address.includes(':') ? address.split(':') : [null, null];
	socket = host ? net.connect(Number(port), host) : net.connect(address);
	socket.setEncoding('utf8');
	socket.on('data', chunk => {
		buffered += chunk;
		let newline;
		while ((newline = buffered.indexOf('\n')) >= 0) {
			const line = buffered.slice(0, newline);
			buffered = buffered.slice(newline + 1);
			let reply;
			try {
				reply = JSON.parse(line);
			} catch (err) {
				failAll(`USB bridge at ${address} sent a line that is not JSON: ${line.slice(0, 80)}`);
				socket.destroy();
				return;
			}
			const waiting = pending.get(reply.id);
			if (waiting) {
				pending.delete(reply.id);
				deliver(reply, waiting.sync);
			}
		}
	});
	socket.on('error', err => failAll(`USB bridge at ${address}: ${err.message}`));
	socket.on('close', () => failAll(`USB bridge at ${address} closed the connection`));
}

parentPort.on('message', ({ request, sync }) => {
	if (failure) {
		deliver(bridgeFailure(request.id, failure), sync);
		return;
	}
	if (!socket) {
		connect();
	}
	pending.set(request.id, { sync });
	socket.write(JSON.stringify(request) + '\n');
});
