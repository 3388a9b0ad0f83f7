'use strict';
// Drives particle-usb's public API against whatever the `usb` module reaches (here: the simulated devices behind
// the USB bridge, with preload.js installed) and prints what particle-usb returned as one JSON document.
//   node -r preload.js probe.js <particle-usb dir> list
//   node -r preload.js probe.js <particle-usb dir> identify <id>
//   node -r preload.js probe.js <particle-usb dir> protection <id>
//   node -r preload.js probe.js <particle-usb dir> reset <id>
//   node -r preload.js probe.js <particle-usb dir> dfu <id>                      (enterDfuMode, then reopen)
//   node -r preload.js probe.js <particle-usb dir> read <id> <alt> <address> <size>   (DFU upload, hex)
const [particleUsbDir, command, id, ...rest] = process.argv.slice(2);
const particleUsb = require(particleUsbDir);

async function describe(device) {
	const info = {
		id: device.id,
		type: device.type,
		platformId: device.platformId,
		firmwareVersion: device.firmwareVersion,
		isInDfuMode: device.isInDfuMode
	};
	if (!device.isInDfuMode) {
		info.serialNumber = await device.getSerialNumber();
		info.deviceId = await device.getDeviceId();
		info.deviceMode = await device.getDeviceMode();
	}
	return info;
}

async function withDevice(fn) {
	const device = await particleUsb.openDeviceById(id);
	try {
		return await fn(device);
	} finally {
		await device.close();
	}
}

const commands = {
	async list() {
		const devices = await particleUsb.getDevices();
		const described = [];
		for (const device of devices) {
			await device.open();
			try {
				described.push(await describe(device));
			} finally {
				await device.close();
			}
		}
		return described;
	},

	identify: () => withDevice(describe),

	protection: () => withDevice(async device => ({
		isInDfuMode: device.isInDfuMode,
		state: await device.getProtectionState()
	})),

	reset: () => withDevice(device => device.reset()).then(() => ({ reset: id })),

	async dfu() {
		await withDevice(device => device.enterDfuMode());
		return withDevice(async device => {
			const state = await device.getProtectionState();
			// particle-usb has no public accessor for the memory map: it parses alt setting 0's interface string
			// into _dfu._memoryInfo when it selects the alt (what doDownload / doUpload check segments against).
			await device._dfu.setAltSetting(0);
			return { isInDfuMode: device.isInDfuMode, protection: state, memoryMap: device._dfu._memoryInfo };
		});
	},

	read: () => withDevice(async device => {
		const [alt, address, size] = rest.map(Number);
		const data = await device.readOverDfu({ altSetting: alt, startAddr: address, size });
		return { data: data.toString('hex') };
	})
};

(async () => {
	const run = commands[command];
	if (!run) {
		throw new Error(`unknown command ${command}`);
	}
	const result = await run();
	process.stdout.write(JSON.stringify(result === undefined ? null : result) + '\n');
})().catch(error => {
	process.stderr.write(`${error.constructor.name}: ${error.message}\n`);
	process.exit(1);
});
