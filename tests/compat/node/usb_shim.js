'use strict';
// A drop-in replacement for node-usb ("usb" 2.x) that reaches the project's simulated devices through the Python
// USB bridge (hardware/simulated/usb_bridge.py, address in PARTICLE_USB_BRIDGE) instead of libusb. It implements
// the part of node-usb's API that particle-usb (src/usb-device-node.js) and particle-cli use, with node-usb's
// semantics: getDeviceList(), open() / close() and Interface#claim() are synchronous (a worker thread talks to the
// bridge while this thread waits in Atomics.wait); controlTransfer(), getStringDescriptor(), Interface#release()
// and Interface#setAltSetting() call back asynchronously. Errors are node-usb's: an Error whose message is the
// libusb name (LIBUSB_ERROR_* for synchronous calls, LIBUSB_TRANSFER_* for transfers) and whose errno is its code.
// node-usb's behaviour copied here: node-usb tsc/usb/device.ts, tsc/usb/interface.ts, src/node_usb.cc (2.x).
const fs = require('fs');
const path = require('path');
const { EventEmitter } = require('events');
const { Worker, MessageChannel, receiveMessageOnPort } = require('worker_threads');

const ENVIRONMENT_VARIABLE = 'PARTICLE_USB_BRIDGE';
const SYNC_REPLY_TIMEOUT_MS = 60 * 1000;
const DEFAULT_TIMEOUT = 1000; // node-usb's default control transfer timeout
const LIBUSB_ENDPOINT_IN = 0x80;
const LIBUSB_REQUEST_GET_DESCRIPTOR = 0x06;
const LIBUSB_REQUEST_SET_CONFIGURATION = 0x09;
const LIBUSB_DT_STRING = 0x03;

// libusb transfer status codes (libusb.h enum libusb_transfer_status): how node-usb reports a failed transfer.
const TRANSFER_STATUS = {
	LIBUSB_ERROR_TIMEOUT: ['LIBUSB_TRANSFER_TIMED_OUT', 2],
	LIBUSB_ERROR_PIPE: ['LIBUSB_TRANSFER_STALL', 4],
	LIBUSB_ERROR_NO_DEVICE: ['LIBUSB_TRANSFER_NO_DEVICE', 5],
	LIBUSB_ERROR_OVERFLOW: ['LIBUSB_TRANSFER_OVERFLOW', 6]
};

class LibUSBException extends Error {
	constructor(name, errno) {
		super(name);
		this.errno = errno;
	}
}

function transferError(reply) {
	const [name, status] = TRANSFER_STATUS[reply.error] || ['LIBUSB_TRANSFER_ERROR', 1];
	return new LibUSBException(name, status);
}

// --- the channel to the bridge ------------------------------------------------------------------------------------

let channel = null;
let nextId = 1;
let reportedFailure = false;

// particle-usb and particle-cli show only "Unable to enumerate USB devices": say once why, on stderr.
function reportOnce(message) {
	if (!reportedFailure) {
		reportedFailure = true;
		fs.writeSync(2, `usb_shim: ${message}\n`);
	}
}

function bridgeChannel() {
	if (channel) {
		return channel;
	}
	const address = process.env[ENVIRONMENT_VARIABLE];
	if (!address) {
		reportOnce(`${ENVIRONMENT_VARIABLE} is not set: start \`python -m hardware.simulated.usb_bridge\` and export ` +
			'the address it prints');
		throw new LibUSBException('LIBUSB_ERROR_OTHER', -99);
	}
	const { port1, port2 } = new MessageChannel();
	const signal = new SharedArrayBuffer(4);
	const worker = new Worker(path.join(__dirname, 'bridge_worker.js'), {
		workerData: { address, syncPort: port2, signal },
		transferList: [port2]
	});
	const callbacks = new Map();
	worker.unref(); // like libusb: an idle USB context does not keep node running
	worker.on('message', reply => {
		const callback = callbacks.get(reply.id);
		callbacks.delete(reply.id);
		if (callbacks.size === 0) {
			worker.unref();
		}
		if (callback) {
			callback(reply);
		}
	});
	channel = { worker, syncPort: port1, flag: new Int32Array(signal), callbacks };
	return channel;
}

function callSync(request) {
	const { worker, syncPort, flag } = bridgeChannel();
	request.id = nextId++;
	Atomics.store(flag, 0, 0);
	worker.postMessage({ request, sync: true });
	if (Atomics.wait(flag, 0, 0, SYNC_REPLY_TIMEOUT_MS) === 'timed-out') {
		throw new LibUSBException('LIBUSB_ERROR_TIMEOUT', -7);
	}
	const reply = receiveMessageOnPort(syncPort).message;
	if (reply.bridgeFailed) {
		reportOnce(reply.message);
	}
	if (!reply.ok) {
		throw new LibUSBException(reply.error, reply.code);
	}
	return reply;
}

function callAsync(request, callback) {
	const { worker, callbacks } = bridgeChannel();
	request.id = nextId++;
	if (callbacks.size === 0) {
		worker.ref(); // a transfer in flight keeps node running until it completes
	}
	callbacks.set(request.id, reply => {
		if (reply.bridgeFailed) {
			reportOnce(reply.message);
		}
		callback(reply);
	});
	worker.postMessage({ request, sync: false });
}

// --- descriptors as node-usb shows them ---------------------------------------------------------------------------

function withBuffers(descriptor) {
	const copy = Object.assign({}, descriptor, { extra: Buffer.from(descriptor.extra || '', 'base64') });
	if (descriptor.interfaces) {
		copy.interfaces = descriptor.interfaces.map(alts => alts.map(withBuffers));
	}
	if (descriptor.endpoints) {
		copy.endpoints = descriptor.endpoints.map(withBuffers);
	}
	return copy;
}

class Endpoint extends EventEmitter {
	constructor(device, descriptor) {
		super();
		this.device = device;
		this.descriptor = descriptor;
		this.address = descriptor.bEndpointAddress;
		this.transferType = descriptor.bmAttributes & 0x03;
		this.direction = (descriptor.bEndpointAddress & LIBUSB_ENDPOINT_IN) ? 'in' : 'out';
		this.timeout = 0;
		this.pollActive = false;
	}
}

class Interface {
	constructor(device, id) {
		this.device = device;
		this.id = id;
		this.altSetting = 0;
		this.refresh();
	}

	refresh() {
		this.descriptor = this.device.configDescriptor.interfaces[this.id][this.altSetting];
		this.interfaceNumber = this.descriptor.bInterfaceNumber;
		this.endpoints = this.descriptor.endpoints.map(desc => new Endpoint(this.device, desc));
	}

	claim() {
		this.device._sync({ op: 'claim', interface: this.interfaceNumber });
	}

	release(closeEndpointsOrCallback, callback) {
		if (typeof closeEndpointsOrCallback === 'function') {
			callback = closeEndpointsOrCallback;
		}
		this.device._async({ op: 'release', interface: this.interfaceNumber }, error => {
			if (!error) {
				this.altSetting = 0;
				this.refresh();
			}
			if (callback) {
				callback.call(this, error);
			}
		});
	}

	setAltSetting(altSetting, callback) {
		this.device._async({ op: 'set_alt', interface: this.interfaceNumber, alt: altSetting }, error => {
			if (!error) {
				this.altSetting = altSetting;
				this.refresh();
			}
			if (callback) {
				callback.call(this, error);
			}
		});
	}

	isKernelDriverActive() {
		return false;
	}

	detachKernelDriver() {}

	attachKernelDriver() {}

	endpoint(address) {
		return this.endpoints.find(e => e.address === address);
	}
}

class Device {
	constructor(listed) {
		this._key = listed.key;
		this._handle = null;
		this._timeout = DEFAULT_TIMEOUT;
		this.busNumber = listed.busNumber;
		this.deviceAddress = listed.deviceAddress;
		this.portNumbers = listed.portNumbers;
		this.deviceDescriptor = listed.deviceDescriptor;
		this._configDescriptor = withBuffers(listed.configDescriptor);
		this.interfaces = undefined;
	}

	get timeout() {
		return this._timeout || DEFAULT_TIMEOUT;
	}

	set timeout(value) {
		this._timeout = value;
	}

	get configDescriptor() {
		return this._configDescriptor;
	}

	get allConfigDescriptors() {
		return [this._configDescriptor];
	}

	get parent() {
		return null;
	}

	open(defaultConfig = true) {
		if (this._handle === null) {
			this._handle = callSync({ op: 'open', device: this._key }).handle;
		}
		this.interfaces = [];
		if (defaultConfig === false) {
			return;
		}
		for (let i = 0; i < this._configDescriptor.interfaces.length; i++) {
			this.interfaces[i] = new Interface(this, i);
		}
	}

	close() {
		if (this._handle === null) {
			throw new Error('Device is not opened');
		}
		const handle = this._handle;
		this._handle = null;
		this.interfaces = undefined;
		callSync({ op: 'close', handle });
	}

	interface(addr) {
		if (!this.interfaces) {
			throw new Error('Device must be open before searching for interfaces');
		}
		addr = addr || 0;
		const found = this.interfaces.find(i => i.interfaceNumber === addr);
		if (!found) {
			throw new Error(`Interface not found for address: ${addr}`);
		}
		return found;
	}

	setAutoDetachKernelDriver() {}

	setConfiguration(desired, callback) {
		this.controlTransfer(0x00, LIBUSB_REQUEST_SET_CONFIGURATION, desired, 0, Buffer.alloc(0), error => {
			if (callback) {
				callback.call(this, error);
			}
		});
	}

	controlTransfer(bmRequestType, bRequest, wValue, wIndex, dataOrLength, callback) {
		const isIn = !!(bmRequestType & LIBUSB_ENDPOINT_IN);
		if (isIn && !(dataOrLength >= 0)) {
			throw new TypeError('Expected size number for IN transfer (based on bmRequestType)');
		}
		if (!isIn && !(dataOrLength instanceof Uint8Array)) {
			throw new TypeError('Expected buffer for OUT transfer (based on bmRequestType)');
		}
		const request = { op: 'control', bmRequestType, bRequest, wValue, wIndex, timeout: this.timeout };
		if (isIn) {
			request.length = dataOrLength;
		} else {
			request.data = Buffer.from(dataOrLength).toString('base64');
		}
		const done = (error, value) => {
			if (callback) {
				callback.call(this, error, value);
			}
		};
		if (this._handle === null) {
			process.nextTick(() => done(new LibUSBException('LIBUSB_ERROR_NO_DEVICE', -4)));
			return this;
		}
		callAsync(Object.assign(request, { handle: this._handle }), reply => {
			if (!reply.ok) {
				return done(transferError(reply));
			}
			done(undefined, isIn ? Buffer.from(reply.data, 'base64') : reply.length);
		});
		return this;
	}

	getStringDescriptor(descIndex, callback) {
		if (descIndex === 0) {
			callback();
			return;
		}
		const wValue = (LIBUSB_DT_STRING << 8) | descIndex;
		this.controlTransfer(LIBUSB_ENDPOINT_IN, LIBUSB_REQUEST_GET_DESCRIPTOR, wValue, 0x0409, 255, (error, buffer) => {
			if (error) {
				return callback(error);
			}
			callback(undefined, buffer.toString('utf16le', 2));
		});
	}

	_sync(request) {
		if (this._handle === null) {
			throw new LibUSBException('LIBUSB_ERROR_NO_DEVICE', -4);
		}
		return callSync(Object.assign(request, { handle: this._handle }));
	}

	_async(request, callback) {
		if (this._handle === null) {
			process.nextTick(() => callback(new LibUSBException('LIBUSB_ERROR_NO_DEVICE', -4)));
			return;
		}
		callAsync(Object.assign(request, { handle: this._handle }), reply => {
			callback(reply.ok ? undefined : new LibUSBException(reply.error, reply.code));
		});
	}
}

// node-usb returns the same object for a device as long as it stays on the bus; particle-usb keeps state on it.
const devices = new Map();

function getDeviceList() {
	const listed = callSync({ op: 'list' }).devices;
	return listed.map(entry => {
		if (!devices.has(entry.key)) {
			devices.set(entry.key, new Device(entry));
		}
		return devices.get(entry.key);
	});
}

function findByIds(vid, pid) {
	return getDeviceList().find(d => d.deviceDescriptor.idVendor === vid && d.deviceDescriptor.idProduct === pid);
}

const usb = Object.assign(new EventEmitter(), {
	getDeviceList,
	findByIds,
	LibUSBException,
	setDebugLevel() {},
	useUsbDkBackend() {},
	refHotplugEvents() {},
	unrefHotplugEvents() {},
	LIBUSB_ENDPOINT_IN,
	LIBUSB_ENDPOINT_OUT: 0x00,
	LIBUSB_REQUEST_GET_DESCRIPTOR,
	LIBUSB_DT_STRING,
	LIBUSB_TRANSFER_TIMED_OUT: 2,
	LIBUSB_TRANSFER_STALL: 4,
	LIBUSB_TRANSFER_NO_DEVICE: 5,
	LIBUSB_ERROR_NO_DEVICE: -4,
	LIBUSB_ERROR_NOT_FOUND: -5,
	LIBUSB_ERROR_TIMEOUT: -7,
	LIBUSB_ERROR_PIPE: -9
});

// Not node-usb: the CDC serial consoles of the bridged devices, for preload.js's serialport hook.
function listSerialPorts() {
	return new Promise((resolve, reject) => {
		callAsync({ op: 'serial_ports' }, reply => {
			if (!reply.ok) {
				return reject(new Error(`Error listing serial ports: ${reply.message}`));
			}
			resolve(reply.ports);
		});
	});
}

module.exports = Object.assign({}, usb, {
	usb, Device, Interface, Endpoint, getDeviceList, findByIds, listSerialPorts
});
