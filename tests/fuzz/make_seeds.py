#!/usr/bin/env python3
"""Regenerates tests/fuzz/corpus/ (the seed corpora) from the project's own
test data and the SDK capture's payloads (tests/emu/data/capture-replay.txt),
so every seed is a real, meaningful input. Run from anywhere; it rewrites the
corpus directories (the regressions/ directories are left alone)."""
import hashlib, json, os, re, shutil, struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
corpus = {}

def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    corpus.setdefault(target, []).append(data)

def read(*p):
    with open(os.path.join(ROOT, *p), 'rb') as f:
        return f.read()

# ---- capture payloads (device -> cloud) and CONNECT lines -------------------
replay = read('tests', 'emu', 'data', 'capture-replay.txt').decode()
pubs, connects, runs, cur = [], [], [], []
for line in replay.splitlines():
    if line.startswith('RUN'):
        if cur: runs.append(cur)
        cur = []
    elif line.startswith(('CONNECT', 'SUB', 'PUB')):
        cur.append(line)
        if line.startswith('PUB '):
            _, topic, payload = line.split(' ', 2)
            pubs.append((topic, payload))
        if line.startswith('CONNECT '):
            connects.append(line.split(' ')[1:])
if cur: runs.append(cur)

# ---- tsl_model ---------------------------------------------------------------
for d in ('models', 'bad_dir'):
    for n in sorted(os.listdir(os.path.join(ROOT, 'tests/tsl/data', d))):
        if n.endswith('.json'):
            add('tsl_model', read('tests/tsl/data', d, n))
ex = json.loads(read('tools/alink-emu/registry.example.json'))
for p in ex['products']:
    if 'tsl' in p:
        add('tsl_model', json.dumps(p['tsl']))

# ---- tsl_check: params and values as they travel ------------------------------
for topic, payload in pubs:
    try:
        params = json.loads(payload).get('params')
    except ValueError:
        continue
    if isinstance(params, (dict, list)):
        add('tsl_check', json.dumps(params))
for v in ['{"Temperature":23.5,"Humidity":41}', '{"PowerSwitch":1,"Setpoint":"25","Mode":5}',
          '{"Color":{"R":1,"G":2,"B":255},"Label":"abc"}', '{"Zones":[{"Id":1,"On":1},{"Id":9,"On":0}]}',
          '{"Samples":[1.5,2,3e2],"Names":["ab","cd"]}', '{"LastSeen":"1524448722000","Energy":0.001}',
          '{"Temperature":{"value":20.1,"time":1700000000000}}', '["PowerSwitch","Temperature"]',
          '{"value":{"Temperature":30,"Level":1},"time":1700000000000}', '{"Offset":-1.25}', '{"Result":1}',
          '{"properties":{"PowerSwitch":{"value":1,"time":1700000000000}},"events":{"Overheat":'
          '{"value":{"Temperature":99.5,"Level":2},"time":1700000000000}},"subDevices":[{"identity":'
          '{"productKey":"a1SwitchPK","deviceName":"sw1"},"properties":{"PowerSwitch":{"value":0,'
          '"time":1700000000000}},"events":{}}]}', '30.5', '"1"', 'true', '[1,2,3,4,5]']:
    add('tsl_check', v)

# ---- tsl_mapping ---------------------------------------------------------------
for n in ('good.conf', 'bad.conf'):
    add('tsl_mapping', read('tests/tsl/data/map', n))
add('tsl_mapping', 'models = { sw = { product_key = "a1SwitchPK"; points = ( { point = "on"; '
    'property = "PowerSwitch"; map = ( (true, 1), (false, 0) ); } ); }; };\n')
add('tsl_mapping', 'models = 5;\n')

# ---- config: main files and conf.d files ---------------------------------------
add('config', 'log_level = "debug";\nconf_dir = "conf.d";\nstate_dir = "/var/lib/linkgw";\n'
    'request_timeout_ms = 5000;\ncloud = {\n  host = "iot-as-mqtt.cn-shanghai.aliyuncs.com";\n  port = 1883;\n'
    '  tls = false;\n  product_key = "a1tmc66UyDK";\n  device_name = "subdev_basic_demo";\n'
    '  device_secret = "awAlkVEzZm40nk4EbMfcUVRwDnnClVVu";\n  sign_method = "hmacsha256";\n  keepalive = 300;\n};\n')
add('config', 'cloud = { host = "localhost"; port = 8883; product_key = "a1RIsMLz2BJ"; device_name = "example1";\n'
    '  product_secret = "PKbZL7baK8pBso94"; register_securemode = -2; instance_id = "iot-123";\n};\n'
    'bogus = 1;\nlog_level = 3;\n')
add('config', read('conf.d', 'sim.conf.example'))
add('config', b'plugin = "sim";\nenabled = true;\nsettings = { a = 1; };\n' + read('tests/tsl/data/map/good.conf'))
add('config', 'plugin = "../../etc/passwd";\nenabled = "yes";\nsettings = ( 1, 2 );\nextra = @include "x";\n')

# ---- cloud_dispatch: downstream topics (topic \n payload) -----------------------
gw = '/sys/a1tmc66UyDK/subdev_basic_demo'
sub = '/sys/a13FN5TplKq/subdev_basic_demo_01'
for t, p in [
    (sub + '/thing/service/property/set', '{"id":"123","version":"1.0","params":{"Temperature":23.5},'
     '"method":"thing.service.property.set"}'),
    (sub + '/thing/service/property/get', '{"id":124,"version":"1.0","params":["Temperature"]}'),
    (sub + '/thing/service/Calibrate', '{"id":"125","version":"1.0","params":{"Offset":1},'
     '"method":"thing.service.Calibrate"}'),
    ('/ext/rrpc/1234567/' + sub[1:] + '/thing/service/Calibrate', '{"id":"126","params":{"Offset":1}}'),
    (sub + '/rrpc/request/1234568', '{"id":"127","params":{}}'),
    (gw + '/thing/topo/change', '{"id":"128","params":{"status":2,"subList":[{"productKey":"a13FN5TplKq",'
     '"deviceName":"subdev_basic_demo_01"}]}}'),
    (gw + '/thing/topo/add/notify', '{"id":"129","params":[{"productKey":"a13FN5TplKq","deviceName":"x"}]}'),
    (sub + '/thing/disable', '{"id":"130","params":{}}'), (sub + '/thing/enable', '{"id":"131","params":{}}'),
    (sub + '/thing/delete', '{"id":"132","params":{}}'),
    ('/ext/error/a1tmc66UyDK/subdev_basic_demo', '{"id":null,"code":520,"message":"device not login"}'),
    ('/ext/ntp/a1tmc66UyDK/subdev_basic_demo/response', '{"deviceSendTime":"1571724098000",'
     '"serverRecvTime":"1571724098110","serverSendTime":"1571724098115"}'),
    (gw + '/thing/event/property/post_reply', '{"id":"3","code":200,"data":{},"message":"success"}'),
    ('/ext/session/a1tmc66UyDK/subdev_basic_demo/combine/logout_reply', '{"id":"0","code":427,"message":"kicked"}'),
    (sub + '/thing/service/property/set', 'not json'),
]:
    add('cloud_dispatch', t + '\n' + p)

# ---- alink: client-id \n key \n pk \n dn \n secret \n timestamp \n method \n extra
for ka, cid, user, pw in connects[:2]:
    dn, pk = user.split('&')
    add('alink', '\n'.join([cid, user, pk, dn, 'awAlkVEzZm40nk4EbMfcUVRwDnnClVVu', '2524608000000',
                            'hmacsha256', '_conn=tls_1']))
add('alink', '\n'.join(['a13FN5TplKq.subdev_basic_demo_01|securemode=2,authType=register,random=123,'
                        'signmethod=hmacsha1|', 'authType', 'a13FN5TplKq', 'subdev_basic_demo_01',
                        'y7GSILD480lBSsP8', '', 'HmacMD5', 'iot-06z00']))
add('alink', '\n'.join(['id', 'dn&pk', 'pk', 'dn', 's', '1', 'hmacSha256', '']))

# ---- cred_csv -----------------------------------------------------------------
add('cred_csv', 'ProductKey,DeviceName,DeviceSecret\r\na1622GZELFq,PzG64uonPrepRRSSe5mO,'
    'd38da90ab1f9adc159bd412ab66d3ed4\r\n')
add('cred_csv', '\ufeffIotId,"Device Name",product_key,Device-Secret,Nickname\nid1,"dev,1",a13FN5TplKq,'
    '"768XBgQwgOakz3K4uhOiLeeh9xjJQx6h","say ""hi""\nthere"\n\n id2 , dev2 ,a13FN5TplKq,abc\r')
add('cred_csv', 'ProductKey,DeviceName\na1,b\n"unterminated')

# ---- knx: APDUs, payloads and names --------------------------------------------
for b in [b'\x00\x81', b'\x00\x80', b'\x00\x40', b'\x00\x80\x0c\x1a', b'\x00\x80\x41\x20\x00\x00',
          b'\x00\x80\x6e\x14\x2d', b'\x00\x80\x19\x0b\x07', b'\x00\x80Hello KNX!\x00\x00\x00\x00',
          b'\x00\x80\xff\x80\x00', b'\x03\xc0\x01']:
    add('knx', b)
for s in ['1/2/3', '31/2047', '0/0/0', '1.1.5', '15.15.255', 'DPST-9-1', 'DPT-1', '9.001', '232.600', '16.001']:
    add('knx', s)

# ---- modbus_codec: type, order, string regs, registers -------------------------
for t in range(11):
    for o in range(4):
        add('modbus_codec', bytes([t, o, 2]) + bytes.fromhex('41c8000042f60000'))
add('modbus_codec', bytes([10, 1, 4]) + b'eHll oowlr\x00d')

# ---- plugin_conf: Modbus and KNX settings ----------------------------------------
add('plugin_conf', '''plugin = "modbus";
settings = {
  bus = { type = "tcp"; host = "127.0.0.1"; port = 1502; response_timeout_ms = 500; };
  max_failures = 3;
  models = (
    { name = "meter";
      points = (
        { name = "voltage"; table = "holding"; address = 0; type = "float32"; order = "CDAB"; scale = 0.1; },
        { name = "energy"; table = "input"; address = 10; type = "uint64"; },
        { name = "relay"; table = "coil"; address = 0; type = "bool"; writable = true; },
        { name = "alarm"; table = "holding"; address = 20; type = "bit"; bit = 3; },
        { name = "serial"; table = "holding"; address = 30; type = "string"; length = 8; order = "BADC"; }
      );
      groups = ( { name = "fast"; interval_ms = 1000; points = [ "voltage", "relay" ]; } );
    }
  );
  devices = ( { id = "meter-1"; model = "meter"; unit = 1; } );
};
''')
add('plugin_conf', '''plugin = "knx";
settings = {
  url = "ip:127.0.0.1:6720";
  devices = (
    { id = "light-1"; model = "light";
      points = (
        { name = "on"; dpt = "1.001"; write = "1/1/1"; listen = [ "1/1/2" ]; read_on_start = true; },
        { name = "temp"; dpt = "9.001"; listen = [ "1/2/1" ]; }
      );
    }
  );
};
''')
for src, marker in (('tests/knx/test_knx_conf.c', 'settings'), ('tests/modbus/test_host.c', 'settings')):
    try:
        text = read(*src.split('/')).decode()
    except OSError:
        continue
    for m in re.finditer(r'((?:\s*"(?:[^"\\\n]|\\.)*"[ \t]*\\?\n?)+)', text):
        lit = ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
        if marker + ' =' in lit and len(lit) > 40:
            add('plugin_conf', lit.encode().decode('unicode_escape'))

# ---- emu: capture runs + console requests ----------------------------------------
for r in runs:
    add('emu', '\n'.join(r) + '\nTICK\nDISCONNECT\n')
console = ['{"cmd":"ping","cid":"1"}', '{"cmd":"state","cid":"2"}',
           '{"cmd":"prop.set","productKey":"a13FN5TplKq","deviceName":"subdev_basic_demo_01",'
           '"params":{"PowerSwitch":1},"cid":"3"}',
           '{"cmd":"service.invoke","productKey":"a13FN5TplKq","deviceName":"subdev_basic_demo_01",'
           '"identifier":"Calibrate","params":{"Offset":1},"sync":true,"timeout":1000}',
           '{"cmd":"device.disable","productKey":"a13FN5TplKq","deviceName":"subdev_basic_demo_01"}',
           '{"cmd":"topo.delete","gateway":{"productKey":"a1tmc66UyDK","deviceName":"subdev_basic_demo"},'
           '"sub":[{"productKey":"a13FN5TplKq","deviceName":"subdev_basic_demo_01"}]}',
           '{"cmd":"ota.push","productKey":"a1RIsMLz2BJ","deviceName":"example1","version":"2.0","size":1024}',
           '{"cmd":"device.add","device":{"productKey":"a13FN5TplKq","deviceName":"new_dev"}}',
           '{"cmd":"product.add","product":{"productKey":"a1NewPK0001","nodeType":"sub"}}']
if runs:
    add('emu', '\n'.join(runs[0][:4] + ['ADMIN ' + c for c in console]) + '\nTICK\n')
    # the upstream topics the capture does not have
    g = '/sys/a1tmc66UyDK/subdev_basic_demo/'
    s1 = '/sys/a13FN5TplKq/subdev_basic_demo_01/'
    sess = '/ext/session/a1tmc66UyDK/subdev_basic_demo/combine/'
    more = [
        'PUB ' + g + 'thing/event/property/pack/post {"id":"20","version":"1.0","params":{"properties":'
        '{"PowerSwitch":{"value":1,"time":1700000000000}},"events":{},"subDevices":[{"identity":{"productKey":'
        '"a13FN5TplKq","deviceName":"subdev_basic_demo_01"},"properties":{"Temperature":{"value":21.5,'
        '"time":1700000000000}},"events":{"Overheat":{"value":{"Temperature":99,"Level":2},'
        '"time":1700000000000}}}]}}',
        'PUB ' + s1 + 'thing/event/property/history/post {"id":"21","version":"1.0","params":[{"identity":'
        '{"productKey":"a13FN5TplKq","deviceName":"subdev_basic_demo_01"},"properties":[{"Temperature":'
        '{"value":20,"time":1600000000000}}],"events":[]}]}',
        'PUB ' + s1 + 'thing/deviceinfo/update {"id":"22","version":"1.0","params":[{"attrKey":"room",'
        '"attrValue":"kitchen"}]}',
        'PUB ' + s1 + 'thing/deviceinfo/delete {"id":"23","version":"1.0","params":[{"attrKey":"room"}]}',
        'PUB /ext/ntp/a1tmc66UyDK/subdev_basic_demo/request {"deviceSendTime":"1571724098000"}',
        'PUB ' + s1 + 'thing/ota/firmware/get {"id":"24","version":"1.0","params":{"module":"default"}}',
        'PUB ' + g + 'thing/list/found {"id":"25","version":"1.0","params":[{"productKey":"a13FN5TplKq",'
        '"deviceName":"found_1"}]}',
        'PUB ' + s1 + 'thing/config/get {"id":"26","version":"1.0","params":{}}',
        'PUB ' + s1 + 'thing/dsltemplate/get {"id":"27","version":"1.0","params":{}}',
        'PUB ' + s1 + 'thing/service/property/set_reply {"id":"28","code":200,"data":{}}',
        'PUB ' + sess + 'logout {"id":"29","version":"1.0","params":{"productKey":"a13FN5TplKq",'
        '"deviceName":"subdev_basic_demo_01"}}',
        'PUB ' + sess + 'login {"id":"30","version":"1.0","params":{"productKey":"a13FN5TplKq",'
        '"deviceName":"subdev_basic_demo_01","clientId":"a13FN5TplKq.subdev_basic_demo_01",'
        '"timestamp":"1795773409322","signMethod":"hmacSha256","sign":"00","cleanSession":"true"}}',
        'ADMIN {"cmd":"device.batchAdd","productKey":"a13FN5TplKq","count":3,"cid":"31"}',
        'ADMIN {"cmd":"ota.push","productKey":"a13FN5TplKq","deviceName":"subdev_basic_demo_01",'
        '"version":"1.1","size":10}',
        'TICK',
    ]
    add('emu', '\n'.join(runs[0][:3] + more) + '\n')
    # custom topics, raw passthrough, user RRPC (emu_custom.c)
    custom = [
        'SUB /a1tmc66UyDK/subdev_basic_demo/user/get',
        'PUB /a1tmc66UyDK/subdev_basic_demo/user/update {"temperature":21}',
        'PUB /a1tmc66UyDK/subdev_basic_demo/user/update/error oops',
        'PUB /sys/a1tmc66UyDK/subdev_basic_demo/thing/model/up_raw \x01\x02\x03',
        'PUB /sys/a1tmc66UyDK/subdev_basic_demo/thing/model/down_raw_reply \x00',
        'PUB /ext/rrpc/1234/a1tmc66UyDK/subdev_basic_demo/user/get {"ok":1}',
        'ADMIN {"cmd":"user.publish","productKey":"a1tmc66UyDK","deviceName":"subdev_basic_demo",'
        '"topic":"get","payload":"hello"}',
        'ADMIN {"cmd":"user.rrpc","productKey":"a1tmc66UyDK","deviceName":"subdev_basic_demo",'
        '"topic":"get","payload":"ping","timeout":1000}',
        'ADMIN {"cmd":"raw.down","productKey":"a1tmc66UyDK","deviceName":"subdev_basic_demo","payload":"AQID"}',
        'ADMIN {"cmd":"messages","productKey":"a1tmc66UyDK","deviceName":"subdev_basic_demo"}',
        'TICK',
    ]
    add('emu', '\n'.join(runs[0][:1] + custom) + '\n')
    # dynamic registration (MQTT, authType=register) of a pre-registered sub-device
    import hmac
    rnd = '12345'
    sign = hmac.new(b'y7GSILD480lBSsP8', ('deviceNamesubdev_basic_demo_01productKeya13FN5TplKqrandom' + rnd)
                    .encode(), 'sha256').hexdigest().upper()
    add('emu', 'CLIENT 1\nCONNECT 60 a13FN5TplKq.subdev_basic_demo_01|securemode=2,authType=register,random=%s,'
        'signmethod=hmacsha256| subdev_basic_demo_01&a13FN5TplKq %s\nSUB /ext/register\nTICK\n' % (rnd, sign))

# ---- tsl_uplink: value trees in fuzz_tsl_uplink.c's encoding ------------------
NAMES = ["R", "G", "B", "Id", "On", "Temperature", "Level", "Offset", "Result", "temperature", "offset",
         "result", "value", "", "x"]
def vb(b): return bytes([1, 1 if b else 0])
def vi(i): return bytes([2]) + struct.pack('>q', i)
def vf(f): return bytes([3]) + struct.pack('>f', f)
def vd(d): return bytes([4]) + struct.pack('>d', d)
def vt(t): t = t.encode(); return bytes([5, len(t)]) + t
def ve(k): return bytes([6]) + struct.pack('>i', k)
def vdate(ms): return bytes([7]) + struct.pack('>q', ms)
def vs(members): return bytes([8, len(members)]) + b''.join(bytes([NAMES.index(n)]) + v for n, v in members)
def va(elems): return bytes([9, len(elems)]) + b''.join(bytes([0]) + v for v in elems)
for v in [vb(True), vi(25), vf(23.6), vd(41.5), vt('abc'), ve(5), vdate(1524448722000),
          vs([('R', vi(1)), ('G', vi(2)), ('B', vi(255))]), va([vd(1.5), vd(2.5)]),
          va([vs([('Id', vi(1)), ('On', vb(True))])]), vs([('temperature', vd(99.0))]),
          vs([('offset', vd(1.0))]), vs([('result', vi(1))]), vi(-1), vd(float('nan')), b'']:
    add('tsl_uplink', v)

# ---- the emulator's registry: the capture's, with the test thermometer model on the gateway and
# sub-device products, and a custom-format product with its own topic classes (raw, user topics)
reg = json.loads(read('tests/emu/data/capture-registry.json'))
tsl = json.loads(read('tests/tsl/data/models/thermo.json'))
for p in reg['products']:
    if p['productKey'] in ('a13FN5TplKq', 'a1tmc66UyDK'):
        t = json.loads(json.dumps(tsl))
        t['profile']['productKey'] = p['productKey']
        p['tsl'] = t
    if p['productKey'] == 'a1RIsMLz2BJ':
        p['dataFormat'] = 'custom'
        p['topics'] = [{'topic': 'user/get', 'direction': 'subscribe'},
                       {'topic': 'user/update', 'direction': 'publish'},
                       {'topic': 'user/data/+', 'direction': 'both'}]
with open(os.path.join(HERE, 'emu-registry.json'), 'w') as f:
    f.write(json.dumps(reg, indent=1) + '\n')
direct = [l for r in runs for l in r if l.startswith('CONNECT 60 a1RIsMLz2BJ.example1')][:1]
add('emu', '\n'.join(direct + [
    'SUB /a1RIsMLz2BJ/example1/user/get', 'SUB /a1RIsMLz2BJ/example1/user/data/#',
    'PUB /a1RIsMLz2BJ/example1/user/update {"v":1}', 'PUB /a1RIsMLz2BJ/example1/user/data/x abc',
    'PUB /sys/a1RIsMLz2BJ/example1/thing/model/up_raw \x01\x02', 'PUB /a1RIsMLz2BJ/example1/user/get no',
    'ADMIN {"cmd":"raw.down","productKey":"a1RIsMLz2BJ","deviceName":"example1","payload":"AQID","cid":"1"}',
    'PUB /sys/a1RIsMLz2BJ/example1/thing/model/down_raw_reply \x00\x01',
    'ADMIN {"cmd":"user.rrpc","productKey":"a1RIsMLz2BJ","deviceName":"example1","topic":"user/data/y",'
    '"payload":"ping"}',
    'ADMIN {"cmd":"user.publish","productKey":"a1RIsMLz2BJ","deviceName":"example1","topic":"user/get",'
    '"payload":"hi"}',
    'ADMIN {"cmd":"messages","productKey":"a1RIsMLz2BJ","deviceName":"example1"}', 'TICK']) + '\n')

# ---- write --------------------------------------------------------------------
for target, items in corpus.items():
    d = os.path.join(HERE, 'corpus', target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for data in items:
        with open(os.path.join(d, 'seed-' + hashlib.sha1(data).hexdigest()[:12]), 'wb') as f:
            f.write(data)
    print('%-15s %3d seeds' % (target, len(items)))
