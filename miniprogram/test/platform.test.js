// The mini-program platform's rules, checked on the files as shipped.
const fs = require('fs')
const path = require('path')
const { PERMISSION_KEYS, PRIVACY_APIS } = require('./wx-mock')
const { LABELS } = require('./fake-server')

const root = path.join(__dirname, '..')
const read = (file) => fs.readFileSync(path.join(root, file), 'utf8')
const app = JSON.parse(read('app.json'))

function sourceFiles(dir, ext) {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(rel, ext)
    return entry.name.endsWith(ext) ? [rel] : []
  })
}
const shipped = (ext) => ['app' + ext].filter((f) => fs.existsSync(path.join(root, f))).concat(...['pages', 'components', 'utils', 'behaviors'].map((d) => sourceFiles(d, ext)))

// The components a page uses, transitively (by usingComponents).
function componentsOf(file) {
  const json = JSON.parse(read(file + '.json'))
  return Object.values(json.usingComponents || {}).flatMap((target) => {
    const resolved = target.startsWith('/') ? target.slice(1) : path.join(path.dirname(file), target)
    return [resolved].concat(componentsOf(resolved))
  })
}

test('app.json declares only the permission keys WeChat accepts, and the location interface it uses', () => {
  for (const key of Object.keys(app.permission || {})) expect(PERMISSION_KEYS).toContain(key)
  expect(app.permission['scope.userLocation'].desc).toMatch(/位置/)
  expect(app.requiredPrivateInfos).toEqual(['chooseLocation'])
})

test('every page and component has its four files; tabs and pushes point at pages that exist', () => {
  const components = new Set(app.pages.flatMap(componentsOf))
  for (const file of app.pages.concat([...components])) {
    for (const ext of ['js', 'json', 'wxml', 'wxss']) expect([file, ext, fs.existsSync(path.join(root, file + '.' + ext))]).toEqual([file, ext, true])
  }
  for (const tab of app.tabBar.list) expect(app.pages).toContain(tab.pagePath)
  // The pages the backend puts in each push, per recipient.
  for (const page of ['pages/case/index', 'pages/staff/handle/index', 'pages/supervise/case/index']) expect(app.pages).toContain(page)
})

test('pages are built with Component() (as the tests render them) and do no work at load', () => {
  const wx = { calls: 0 }
  global.wx = new Proxy(wx, { get: () => () => (wx.calls += 1) })
  global.Behavior = (definition) => definition
  for (const page of app.pages) {
    expect([page, 'usingComponents' in JSON.parse(read(page + '.json'))]).toEqual([page, true])
    let definition = null
    global.Component = (d) => (definition = d)
    global.Page = () => {
      throw new Error(page + ' uses Page(): build pages with Component()')
    }
    jest.isolateModules(() => require(path.join(root, page)))
    expect([page, Boolean(definition && (definition.methods || definition.behaviors))]).toEqual([page, true])
  }
  expect(wx.calls).toBe(0)
  delete global.Component
  delete global.Page
  delete global.Behavior
  delete global.wx
})

test('every page that can touch location, album or camera shows the privacy popup', () => {
  const privacyCall = new RegExp('wx\\.(' + PRIVACY_APIS.join('|') + ')\\(')
  const touching = (file) => privacyCall.test(read(file + '.js'))
  let checked = 0
  for (const page of app.pages) {
    const tree = [page].concat(componentsOf(page))
    if (!tree.some(touching)) continue
    checked += 1
    expect([page, read(page + '.wxml').includes('<privacy-popup')]).toEqual([page, true])
  }
  expect(checked).toBeGreaterThanOrEqual(4)
  const popup = read('components/privacy-popup/index.wxml')
  expect(popup).toMatch(/<button id="agree-btn"[^>]*open-type="agreePrivacyAuthorization"[^>]*bindagreeprivacyauthorization=/)
})

test('no deprecated chooseImage, and every navigateTo/redirectTo/switchTab names a page of app.json', () => {
  for (const file of shipped('.js')) {
    const code = read(file)
    expect([file, /wx\.chooseImage\(/.test(code)]).toEqual([file, false])
    for (const m of code.matchAll(/url: '\/(pages\/[a-z/-]+\/index)/g)) expect([file, app.pages.includes(m[1])]).toEqual([file, true])
  }
})

test('no label table is copied into the code: statuses, steps and roles come from GET /labels', () => {
  const words = [].concat(Object.values(LABELS.statuses), Object.values(LABELS.steps), Object.values(LABELS.roles), ['约谈整改', '降星', '清退'])
  for (const file of shipped('.js')) {
    const code = read(file).replace(/^\s*\/\/.*$/gm, '')
    const copied = words.filter((w) => code.includes("'" + w + "'"))
    expect([file, copied]).toEqual([file, []])
  }
})

test('the queue is shown in the server\'s order: nothing re-sorts it', () => {
  expect(read('pages/staff/queue/index.js')).not.toMatch(/\.sort\(/)
  expect(read('pages/supervise/overdue/index.js')).not.toMatch(/\.sort\(/)
})

test('one photo picker: the pages use the component and the limit lives in utils/limits.js only', () => {
  const limits = require('../utils/limits')
  expect(limits.photos).toBe(9)
  const aboutPhotos = (file) => /photo|chooseMedia|照片/.test(read(file))
  for (const file of shipped('.js').concat(shipped('.wxml')).filter(aboutPhotos)) {
    if (file === path.join('utils', 'limits.js')) continue
    expect([file, /(^|[^\w-])9(?![\w-])/.test(read(file).replace(/^\s*\/\/.*$/gm, ''))]).toEqual([file, false])
  }
  expect(read('pages/report/index.wxml')).toContain('<photo-picker')
  expect(read('components/case-actions/index.wxml')).toContain('<photo-picker')
  const choosers = shipped('.js').filter((f) => /wx\.chooseMedia\(/.test(read(f)))
  expect(choosers).toEqual([path.join('components', 'photo-picker', 'index.js')])
})

test('release configuration: HTTPS for trial and release, a placeholder appid, DevTools settings', () => {
  const config = require('../config')
  expect(Object.keys(config.baseUrls).sort()).toEqual(['develop', 'release', 'trial'])
  expect(config.baseUrls.trial).toMatch(/^https:\/\/[^/]+$/)
  expect(config.baseUrls.release).toMatch(/^https:\/\/[^/]+$/)
  expect(config.baseUrls.develop).toBe('http://127.0.0.1:8000')
  const project = JSON.parse(read('project.config.json'))
  expect(project.appid).not.toBe('touristappid')
  expect(project.appid).toMatch(/^wx/)
  expect(read('README.md')).toContain(project.appid)
})
