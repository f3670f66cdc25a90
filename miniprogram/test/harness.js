// Renders a page with miniprogram-simulate (templates compiled by WeChat's
// own wcc) and drives it the way a person does: taps, typing, pickers. A tap
// runs its bound handler synchronously inside wx.gesture(), so the strict wx
// mock knows what was called from the tap and what came after it.
const path = require('path')
const simulate = require('miniprogram-simulate')
const exparser = require('miniprogram-exparser')
const { createWx } = require('./wx-mock')
const { createServer } = require('./fake-server')

const ROOT = path.join(__dirname, '..')

// Lets every pending callback, promise and timer of the flow run.
async function flush(rounds) {
  for (let i = 0; i < (rounds || 30); i++) await new Promise((resolve) => setTimeout(resolve, 0))
}

// Every shadow root in the rendered tree, the page's first.
function shadowRoots(node, out) {
  out = out || []
  if (node.shadowRoot) {
    out.push(node.shadowRoot)
    walk(node.shadowRoot, out)
  }
  return out
}

function walk(node, out) {
  ;(node.childNodes || []).forEach((child) => {
    // Built-in tags are components too: their slotted children are light
    // DOM; wx:if and wx:for blocks are virtual nodes. Go through all of them.
    if (child instanceof exparser.Component) shadowRoots(child, out)
    if (child.childNodes) walk(child, out)
  })
}

function attrs(node) {
  const list = (node._vt && node._vt.attrs) || []
  return Object.fromEntries(list.map((a) => [a.name, a.value]))
}

class Page {
  constructor(comp, wx, server) {
    this.comp = comp
    this.wx = wx
    this.server = server
  }

  get data() {
    return this.comp.instance.data
  }

  get instance() {
    return this.comp.instance
  }

  all(selector) {
    return shadowRoots(this.comp._exparserNode).reduce((found, root) => found.concat(root.querySelectorAll(selector) || []), [])
  }

  find(selector) {
    const node = this.all(selector)[0]
    if (!node) throw new Error('nothing on the page matches ' + selector)
    return node
  }

  has(selector) {
    return this.all(selector).length > 0
  }

  text(selector) {
    return selector ? this.all(selector).map((n) => n.$$.textContent.trim()).join('\n') : this.comp.dom.textContent
  }

  attrs(selector) {
    return attrs(this.find(selector))
  }

  // Dispatches synchronously (j-component would defer it), as WeChat runs a handler.
  fire(selector, type, detail) {
    const node = typeof selector === 'string' ? this.find(selector) : selector
    exparser.Event.dispatchEvent(node, exparser.Event.create(type, detail || {}, { bubbles: true, composed: true, capturePhase: true }))
  }

  tap(selector, index) {
    const node = typeof index === 'number' ? this.all(selector)[index] : this.find(selector)
    if (!node) throw new Error('nothing to tap at ' + selector + '[' + index + ']')
    return this.wx.gesture(() => this.fire(node, 'tap', { x: 0, y: 0 }))
  }

  type(selector, value) {
    this.fire(selector, 'input', { value, cursor: String(value).length })
  }

  change(selector, value) {
    this.fire(selector, 'change', { value })
  }

  // The user taps the popup's agree button: WeChat records the consent and
  // fires bindagreeprivacyauthorization.
  agreePrivacy() {
    const id = 'agree-btn'
    const button = this.find('#' + id)
    const bound = button._vt && button._vt.event && button._vt.event.agreeprivacyauthorization
    if (attrs(button).openType !== 'agreePrivacyAuthorization' || !bound) throw new Error("the agree button is not WeChat's agreePrivacyAuthorization button with its handler")
    this.wx.privacyButtonTapped(id)
    this.wx.gesture(() => this.fire(button, 'agreeprivacyauthorization', {}))
  }

  lifetime(name, arg) {
    const method = this.instance[name]
    const result = method ? method.call(this.instance, arg) : null
    if (name === 'onShow') this.comp.triggerPageLifeTime('show')
    return result
  }
}

// A fresh copy of the page's modules for every render (as a fresh launch).
function render(page, options) {
  options = options || {}
  const wx = options.wx || createWx(options.wxSettings)
  const server = options.server || createServer()
  if (!options.wx) wx.respond((o) => server.handle(o))
  if (options.as) {
    // Logged in before, as the app keeps it: the token and the user.
    wx.storage.token = server.tokenOf(options.as)
    wx.storage.user = server.s.tokens[wx.storage.token]
  }
  if (options.labels !== false) wx.storage.labels = { fetched_at: Date.now(), labels: require('./fake-server').LABELS }
  if (options.templates !== false) wx.storage.subscribe_templates = { fetched_at: Date.now(), templates: require('./fake-server').TEMPLATES }
  global.wx = wx
  let id
  jest.isolateModules(() => {
    id = simulate.load(path.join(ROOT, page), { rootPath: ROOT })
  })
  const comp = simulate.render(id)
  comp.attach(document.createElement('parent-wrapper'))
  const p = new Page(comp, wx, server)
  p.lifetime('onLoad', options.query || {})
  p.lifetime('onShow')
  p.lifetime('onReady')
  return p
}

module.exports = { render, flush, ROOT, createWx, createServer }
