import t from 'tap'
import { ForwarderTrust } from '../../../src/proxy/http/forwarder-trust.js'

t.test('a client is trusted when its address is listed or inside a listed block, in either address family', async (t) => {
  const trust = new ForwarderTrust(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'])
  t.ok(trust.trusts('10.200.3.4'))
  t.ok(trust.trusts('192.0.2.7'))
  t.notOk(trust.trusts('192.0.2.8'), 'a single address is a /32')
  t.notOk(trust.trusts('11.0.0.1'))
  t.ok(trust.trusts('2001:db8:5::1'))
  t.notOk(trust.trusts('2001:db9::1'))
  t.ok(trust.trusts('::ffff:10.1.1.1'), 'an IPv4 client as a socket listening on "::" reports it')
  t.notOk(trust.trusts('::ffff:127.0.0.1'))
  t.notOk(trust.trusts('unknown'), 'a socket that reports no address is not trusted')
  t.notOk(new ForwarderTrust([]).trusts('127.0.0.1'), 'nobody by default')
})
