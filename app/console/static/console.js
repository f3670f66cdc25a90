// The console's few behaviours: QR login polling, full-size photos, charts,
// confirmations, printing, "/" to search. Pages work without it except the
// automatic login and the charts.
(function () {
  'use strict'

  function pollLogin(box) {
    var state = document.getElementById('login-state')
    var form = document.getElementById('login-finish')
    var timer = setInterval(function () {
      fetch(box.getAttribute('data-state-url'), { credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) { return r.json() })
        .then(function (body) {
          if (body.status === 'confirmed') {
            clearInterval(timer)
            state.textContent = '已在手机上确认，正在进入…'
            form.submit()
          } else if (body.status === 'expired') {
            clearInterval(timer)
            state.textContent = '二维码已过期，请点“换一个二维码”。'
            state.className = 'state expired'
          }
        })
        .catch(function () { state.textContent = '网络连接异常，正在重试…' })
    }, 2000)
  }

  function lightbox() {
    var dialog = document.getElementById('lightbox')
    if (!dialog || !dialog.showModal) return
    var img = dialog.querySelector('img')
    document.querySelectorAll('a.photo[data-full]').forEach(function (link) {
      link.addEventListener('click', function (event) {
        event.preventDefault()
        img.src = link.getAttribute('data-full')
        dialog.showModal()
      })
    })
    dialog.addEventListener('click', function (event) { if (event.target === dialog) dialog.close() })
  }

  function charts() {
    if (!window.echarts) return
    document.querySelectorAll('.chart[data-option]').forEach(function (el) {
      el.style.height = (el.getAttribute('data-height') || 320) + 'px'
      var option = JSON.parse(document.getElementById(el.getAttribute('data-option')).textContent)
      var chart = window.echarts.init(el, null, { renderer: 'svg' })
      chart.setOption(option)
      window.addEventListener('resize', function () { chart.resize() })
    })
  }

  function confirmations() {
    document.querySelectorAll('form[data-confirm]').forEach(function (form) {
      form.addEventListener('submit', function (event) {
        if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault()
      })
    })
  }

  // Filters travel in the URL (bookmarkable, shareable): leave the empty ones out.
  function cleanFilters() {
    document.querySelectorAll('form[method=get]').forEach(function (form) {
      form.addEventListener('submit', function () {
        form.querySelectorAll('input, select').forEach(function (field) {
          if (field.name && !field.value) field.disabled = true
        })
      })
    })
  }

  function shortcuts() {
    var search = document.querySelector('[data-focus-key="/"]')
    document.addEventListener('keydown', function (event) {
      var typing = /INPUT|SELECT|TEXTAREA/.test(document.activeElement.tagName)
      if (search && event.key === '/' && !typing) { event.preventDefault(); search.focus(); search.select() }
    })
    document.querySelectorAll('[data-print]').forEach(function (b) { b.addEventListener('click', function () { window.print() }) })
  }

  document.addEventListener('DOMContentLoaded', function () {
    var login = document.getElementById('qr-login')
    if (login) pollLogin(login)
    lightbox()
    charts()
    confirmations()
    cleanFilters()
    shortcuts()
  })
})()
