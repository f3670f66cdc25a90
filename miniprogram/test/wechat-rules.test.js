// The strict wx mock refuses what WeChat refuses; the old subscription flow
// fails under it and the new one passes.
const { createWx, TAP_ONLY, TOO_MANY } = require('./wx-mock')
const { createServer } = require('./fake-server')
const { createClient } = require('../utils/request')
const { render, flush } = require('./harness')

const cfg = { baseUrl: 'https://county.example', apiPrefix: '/api/v1' }

// The flow this release replaces (utils/report.js askToSubscribe, kept here
// verbatim): it fetches the template ids and only then asks WeChat.
function oldAskToSubscribe(request, api, purposes) {
  return request({ url: '/subscribe-templates', silent: true })
    .then((templates) => {
      const ids = purposes.map((p) => templates[p]).filter(Boolean).slice(0, 3)
      if (!ids.length) return null
      return new Promise((resolve) => {
        api.requestSubscribeMessage({
          tmplIds: ids,
          success: (res) => {
            const answers = {}
            ids.forEach((id) => {
              if (res[id]) answers[id] = res[id]
            })
            request({ url: '/staff/subscriptions', method: 'POST', data: answers, silent: true }).then(resolve, resolve)
          },
          fail: resolve,
        })
      })
    })
    .catch(() => null)
}

function backend(as) {
  const wx = createWx()
  const server = createServer()
  wx.respond((o) => server.handle(o))
  wx.storage.token = server.tokenOf(as)
  return { wx, server, client: createClient(wx, cfg) }
}

test('requestSubscribeMessage works inside a tap and is refused after it, with WeChat\'s words', async () => {
  const wx = createWx()
  const answers = []
  wx.gesture(() => wx.requestSubscribeMessage({ tmplIds: ['A'], success: (r) => answers.push(r) }))
  wx.requestSubscribeMessage({ tmplIds: ['A'], fail: (r) => answers.push(r) })
  let later
  wx.gesture(() => {
    later = Promise.resolve().then(() => wx.requestSubscribeMessage({ tmplIds: ['A'], fail: (r) => answers.push(r) }))
  })
  await later
  await flush(2)
  expect(answers[0]).toEqual({ errMsg: 'requestSubscribeMessage:ok', A: 'accept' })
  expect(answers.slice(1).map((r) => r.errMsg)).toEqual([TAP_ONLY, TAP_ONLY])
  expect(TAP_ONLY).toBe('requestSubscribeMessage:fail can only be invoked by user TAP gesture.')
})

test('more than three template ids are refused, even inside a tap', async () => {
  const wx = createWx()
  let answer
  wx.gesture(() => wx.requestSubscribeMessage({ tmplIds: ['A', 'B', 'C', 'D'], fail: (r) => (answer = r) }))
  await flush(2)
  expect(answer).toEqual({ errMsg: TOO_MANY, errCode: 20003 })
  expect(wx.calls.subscribe).toHaveLength(0)
})

test('location and album interfaces fail before consent (104) and ask the privacy listener', async () => {
  const wx = createWx()
  const failures = []
  wx.chooseMedia({ count: 1, fail: (r) => failures.push(r) })
  await flush(2)
  expect(failures[0]).toEqual({ errMsg: 'chooseMedia:fail privacy permission is not authorized', errno: 104 })
  const asked = []
  wx.onNeedPrivacyAuthorization((resolve, info) => asked.push([resolve, info]))
  wx.chooseLocation({ fail: (r) => failures.push(r) })
  await flush(2)
  expect(asked[0][1]).toEqual({ referrer: 'chooseLocation' })
  // Saying "agree" without the agree button being tapped is not consent.
  asked[0][0]({ buttonId: 'agree-btn', event: 'agree' })
  await flush(2)
  expect(failures[1].errno).toBe(104)
  expect(wx.privacy.agreed).toBe(false)
})

test('an interface missing from the privacy guide fails with 112 even after consent', async () => {
  const wx = createWx({ privacyAgreed: true, privacyDeclared: ['chooseMedia'] })
  let answer
  wx.chooseLocation({ fail: (r) => (answer = r) })
  await flush(2)
  expect(answer).toEqual({ errMsg: 'chooseLocation:fail api scope is not declared in the privacy agreement', errno: 112 })
})

test('the old flow (fetch the ids, then ask) is refused by WeChat, even started from a tap', async () => {
  const { wx, server, client } = backend('resident')
  let done
  wx.gesture(() => {
    done = oldAskToSubscribe(client.request, wx, ['case_update'])
  })
  await done
  await flush()
  expect(wx.calls.subscribe).toHaveLength(0)
  expect(wx.calls.refused).toEqual([{ api: 'requestSubscribeMessage', errMsg: TAP_ONLY }])
  expect(server.calls('POST', /subscriptions$/)).toHaveLength(0)
  expect(server.s.quota[1]).toBeUndefined()
})

test('the new flow asks inside the tap with cached ids, then posts the answer', async () => {
  const { wx, server } = backend('resident')
  global.wx = wx
  let subscribe
  jest.isolateModules(() => {
    subscribe = require('../utils/subscribe')
  })
  await subscribe.prefetch() // onLoad / app launch
  let done
  wx.gesture(() => {
    done = subscribe.askAndRecord(subscribe.PURPOSES.resident)
  })
  expect(await done).toEqual({ TPL_UPD: 1 })
  expect(wx.calls.subscribe).toEqual([['TPL_UPD']])
  expect(wx.calls.refused).toEqual([])
  expect(server.calls('POST', /subscriptions$/)[0].body).toEqual({ TPL_UPD: 'accept' })
})

test('without cached ids the tap asks nothing (no refusal) and loads them for the next tap', async () => {
  const { wx, server } = backend('handler')
  global.wx = wx
  let subscribe
  jest.isolateModules(() => {
    subscribe = require('../utils/subscribe')
  })
  let first
  wx.gesture(() => {
    first = subscribe.askAndRecord(subscribe.PURPOSES.staff)
  })
  expect(await first).toBeNull()
  await flush()
  expect(wx.calls.refused).toEqual([])
  expect(server.calls('GET', /subscribe-templates$/)).toHaveLength(1)
  let second
  wx.gesture(() => {
    second = subscribe.askAndRecord(subscribe.PURPOSES.staff)
  })
  expect(await second).toEqual({ TPL_NEW: 1, TPL_ESC: 1 })
})

test('a page that asks after an await is caught: the report page asks before any network', async () => {
  const p = render('pages/report/index', { as: 'resident', wxSettings: { privacyAgreed: true } })
  await flush()
  p.tap('.category--dog_unleashed')
  p.type('.community-search', '幸福')
  await flush()
  p.tap('.community-option')
  p.type('.description', '小区里有人遛狗不拴绳')
  const before = p.server.s.log.length
  p.tap('.submit')
  // Inside the tap: the popup was asked for, and no request had been sent yet.
  expect(p.wx.calls.subscribe).toEqual([['TPL_UPD']])
  expect(p.server.s.log.length).toBe(before)
  await flush()
  expect(p.wx.calls.refused).toEqual([])
})
